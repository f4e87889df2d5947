package org.convkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

import org.convkit.graph.zoo.Zoo;
import org.convkit.graph.zoo.ZooModel;
import org.convkit.memory.Bytes;
import org.convkit.memory.Footprint;
import org.convkit.memory.Optimizer;
import org.convkit.tensor.DType;
import org.convkit.testing.HostLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code convkit zoo}, and {@code convkit plan --model} with the zoo's names. */
@ExtendWith(HostLeakCheck.class)
class ZooCommandTest {
    private record Run(int status, String out, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void zooListsEveryModelWithItsPublishedCountAndFootprints() {
        Run r = run("zoo", "--batch", "8", "--optimizer", "adam");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("training, batch 8") && r.out().contains("adam"), r.out());
        for (ZooModel m : Zoo.all()) {
            String line = r.out().lines().filter(l -> l.startsWith(m.name() + " ")).findFirst()
                    .orElseThrow(() -> new AssertionError("no line for " + m.name() + ":\n" + r.out()));
            Footprint training = Footprint.of(m.graph(8), DType.F32, Optimizer.ADAM, PlanCommand.DEFAULT_ALIGNMENT);
            Footprint inference = Footprint.of(m.graph(1), DType.F32, Optimizer.ADAM, PlanCommand.DEFAULT_ALIGNMENT);
            for (String s : new String[] {m.describeInput(), String.format(Locale.ROOT, "%,d", m.parameterCount()),
                    String.format(Locale.ROOT, "%.3f", m.graph(1).flops() / 1e9), Bytes.binary(inference.inferencePlanned()),
                    Bytes.binary(training.trainingPlanned())}) {
                assertTrue(line.contains(s), "'" + s + "' missing from: " + line);
            }
        }
        assertTrue(r.out().contains("25,557,032") && r.out().contains("22,910,480"), r.out());
        Run bad = run("zoo", "--batch", "0");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("--batch"), bad.err());
    }

    @Test
    void planTakesEveryZooNameAndKeepsTheSeed() {
        for (String name : Zoo.names()) {
            Run r = run("plan", "--model", name, "--batch", "2", "--measure", "false", "--json");
            assertEquals(0, r.status(), name + ": " + r.err());
            assertTrue(r.out().contains("\"model\": \"" + name + "\""), name + ": " + r.out());
        }
        Run measured = run("plan", "--model", "lenet5", "--device", "cpu");
        assertEquals(0, measured.status(), measured.err());
        assertTrue(measured.out().contains("= planned") && measured.out().contains("= lower bound"), measured.out());
        Run seed = run("plan", "--measure", "false");
        assertEquals(0, seed.status(), seed.err());
        assertTrue(seed.out().contains("903,400"), seed.out());
        Run unknown = run("plan", "--model", "vgg16");
        assertEquals(2, unknown.status());
        assertTrue(unknown.err().contains("vgg16") && unknown.err().contains("seed") && unknown.err().contains("resnet50"),
                unknown.err());
    }
}
