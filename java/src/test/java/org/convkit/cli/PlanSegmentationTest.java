package org.convkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.convkit.graph.Graph;
import org.convkit.graph.Segmentation;
import org.convkit.tensor.Shape;
import org.convkit.testing.HostLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code convkit plan --model fcn}: the segmentation network's footprint, measured on the CPU backend. */
@ExtendWith(HostLeakCheck.class)
class PlanSegmentationTest {
    @Test
    void planReportsTheSegmentationNetworkAndMeasuresWhatItPlans() {
        Graph g = PlanCommand.graph("fcn", 2);
        assertEquals(Shape.nchw(2, Segmentation.VOC_CLASSES, 224, 224), g.outputShape());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"plan", "--model", "fcn", "--device", "cpu", "--json"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String json = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        assertTrue(json.contains("\"model\": \"fcn\"") && json.contains("\"params\": 742463"), json);
        String inference = json.substring(json.indexOf("\"inference\""), json.indexOf("\"training\""));
        long planned = field(inference, "planned");
        assertEquals(planned, field(inference, "measured"), inference);
        assertEquals(field(inference, "lowerBound"), field(inference, "measuredEager"), inference);
    }

    private static long field(String json, String key) {
        int at = json.indexOf("\"" + key + "\": ") + key.length() + 4;
        int end = at;
        while (Character.isDigit(json.charAt(end))) {
            end++;
        }
        return Long.parseLong(json.substring(at, end));
    }
}
