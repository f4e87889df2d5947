package org.convkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.exec.InferenceResult;
import org.convkit.exec.Session;
import org.convkit.graph.Model;
import org.convkit.graph.SeedNet;
import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The README's Java example, as written there. */
@ExtendWith(HostLeakCheck.class)
class ReadmeExampleTest {
    @Test
    void theReadmeExampleRunsAndPrintsWhatItSays() {
        Conv2d conv = Conv2d.builder(64).kernel(3).stride(2).padding(Padding.SAME)
                .activation(Activation.RELU).build();
        Shape in = Shape.nchw(1, 3, 224, 224);
        assertEquals(Shape.nchw(1, 64, 112, 112), conv.outputShape(in));
        assertEquals(1792, conv.parameterCount(in));

        try (Model model = SeedNet.build(1, 42);
                Device device = Backends.system().open("best");
                Session session = Session.open(model, device);
                Tensor image = Tensor.allocate(model.inputShape()).fillUniform(1, 0f, 1f);
                InferenceResult result = session.run(image)) {
            assertEquals(device.name(), result.device());
            assertEquals(Shape.nchw(1, 400, 25, 38), result.output().shape());
            assertEquals(12_613_600, session.allocator().peakBytes());
        }
    }
}
