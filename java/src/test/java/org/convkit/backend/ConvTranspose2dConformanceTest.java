package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.stream.Stream;

import org.convkit.ops.ConvTranspose2d;
import org.convkit.ops.Padding;
import org.convkit.ops.ref.ConvTranspose2dRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnnxNodeTests;
import org.convkit.testing.OpHarness;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * conv_transpose2d against ONNX's own ConvTranspose node tests (every 2-D one in
 * {@code ../shared/conformance/onnx/node}), on the reference and on every device. Each case
 * states the node's attributes as the builder calls they map to; the weight's shape gives the
 * kernel and {@code outChannels = W.shape[1] * group}; no test has a bias.
 *
 * <p>The data are small integers, so every sum is exact in float32: outputs must match to
 * 1e-6 of {@code max(|y|, 1)}, far tighter than ONNX's runner (rtol 1e-3, atol 1e-7).
 */
class ConvTranspose2dConformanceTest {
    static final double TOLERANCE = 1e-6;

    /** One ONNX node test and the op its attributes describe. */
    record OnnxCase(String test, ConvTranspose2d op) {
    }

    static List<OnnxCase> cases() {
        return List.of(
                new OnnxCase("test_convtranspose", base(2).build()),
                // auto_pad SAME_UPPER, strides 2: output = 3 * 2, total pad 1 at the end.
                new OnnxCase("test_convtranspose_autopad_same", base(2).stride(2).padding(Padding.SAME).build()),
                new OnnxCase("test_convtranspose_dilations", base(1).kernel(2).dilation(2).build()),
                new OnnxCase("test_convtranspose_group_2", base(2).groups(2).build()),
                new OnnxCase("test_convtranspose_group_2_image_3", base(2).groups(2).build()),
                // output_shape 10x8 with output_padding 1: total padding 0.
                new OnnxCase("test_convtranspose_kernel_shape",
                        base(2).stride(3, 2).outputPadding(1, 1).outputShape(10, 8).build()),
                // output_shape 10x8 without output_padding: total padding -1, i.e. one extra row and column at the end.
                new OnnxCase("test_convtranspose_output_shape", base(2).stride(3, 2).outputShape(10, 8).build()),
                new OnnxCase("test_convtranspose_pad", base(2).stride(3, 2).outputPadding(1, 1).build()),
                // pads [x1_begin, x2_begin, x1_end, x2_end] = [1, 2, 1, 2]: top 1, left 2, bottom 1, right 2.
                new OnnxCase("test_convtranspose_pads", base(2).stride(3, 2).padding(Padding.explicit(1, 2, 1, 2)).build()));
    }

    private static ConvTranspose2d.Builder base(int outChannels) {
        return ConvTranspose2d.builder(outChannels).kernel(3).bias(false);
    }

    private static List<Device> devices;

    @BeforeAll
    static void open() {
        devices = TestDevices.openAll();
    }

    @AfterAll
    static void close() {
        TestDevices.closeAll(devices);
    }

    @TestFactory
    Stream<DynamicTest> theReferenceReproducesOnnx() {
        return cases().stream().map(c -> DynamicTest.dynamicTest("reference " + c.test(), () -> {
            OnnxNodeTests.NodeTest t = OnnxNodeTests.load(c.test());
            ConvTranspose2d.Geometry g = checkShapes(c, t);
            ConvTranspose2dRef.Result r = ConvTranspose2dRef.forward(g, t.inputs().get(0).values(),
                    t.inputs().get(1).values(), null);
            OnnxNodeTests.compareReference("reference " + c.test(), g.outputShape(), r.y(), t, TOLERANCE);
        }));
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceReproducesOnnx() {
        return devices.stream().flatMap(d -> cases().stream().map(c -> DynamicTest.dynamicTest(
                d.name() + " " + c.test(), () -> {
                    OnnxNodeTests.NodeTest t = OnnxNodeTests.load(c.test());
                    ConvTranspose2d.Geometry g = checkShapes(c, t);
                    OpHarness.check(d, c.op(), List.of(g.inputShape()), args -> OnnxNodeTests.expected(t), TOLERANCE,
                            OnnxNodeTests.inputs(t));
                })));
    }

    private static ConvTranspose2d.Geometry checkShapes(OnnxCase c, OnnxNodeTests.NodeTest t) {
        Shape x = t.inputs().get(0).shape();
        ConvTranspose2d.Geometry g = c.op().geometry(x);
        assertEquals(t.inputs().get(1).shape(), g.weightShape(), c.test() + ": weight shape");
        assertEquals(t.output().shape(), g.outputShape(), c.test() + ": output shape");
        return g;
    }
}
