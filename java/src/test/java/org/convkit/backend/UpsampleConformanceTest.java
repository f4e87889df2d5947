package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.stream.Stream;

import org.convkit.ops.Upsample;
import org.convkit.ops.ref.UpsampleRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnnxNodeTests;
import org.convkit.testing.OpHarness;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * upsample against ONNX's own node tests in {@code ../shared/conformance/onnx/node}, on the
 * reference and on every device: {@code test_upsample_nearest} (Upsample-9, mode nearest) and
 * {@code test_resize_upsample_scales_nearest} (Resize-19 with its defaults, half_pixel and
 * round_prefer_floor, which for integer scale factors pick the same pixels as asymmetric and
 * floor). Both have scales {@code [1, 1, 2, 3]}: 2 on the height, 3 on the width. Nearest copies,
 * so outputs must match exactly.
 */
class UpsampleConformanceTest {
    /** One ONNX node test and the op its attributes describe; its scales are input 1, not data. */
    record OnnxCase(String test, Upsample op) {
    }

    static List<OnnxCase> cases() {
        Upsample nearest2x3 = Upsample.builder(Upsample.Mode.NEAREST).scale(2, 3).build();
        return List.of(new OnnxCase("test_upsample_nearest", nearest2x3),
                new OnnxCase("test_resize_upsample_scales_nearest", nearest2x3));
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
            Upsample.Geometry g = checkShapes(c, t);
            UpsampleRef.Result r = UpsampleRef.forward(g, t.inputs().get(0).values());
            OnnxNodeTests.compareReference("reference " + c.test(), g.outputShape(), r.y(), t, 0);
        }));
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceReproducesOnnx() {
        return devices.stream().flatMap(d -> cases().stream().map(c -> DynamicTest.dynamicTest(
                d.name() + " " + c.test(), () -> {
                    OnnxNodeTests.NodeTest t = OnnxNodeTests.load(c.test());
                    Upsample.Geometry g = checkShapes(c, t);
                    OpHarness.check(d, c.op(), List.of(g.inputShape()), args -> OnnxNodeTests.expected(t), 0,
                            OnnxNodeTests.inputs(t));
                })));
    }

    private static Upsample.Geometry checkShapes(OnnxCase c, OnnxNodeTests.NodeTest t) {
        Shape x = t.inputs().get(0).shape();
        float[] scales = t.inputs().get(1).values();
        assertEquals(4, scales.length, c.test() + ": scales of N, C, H, W");
        assertEquals(1f, scales[0], c.test() + ": batch scale");
        assertEquals(1f, scales[1], c.test() + ": channel scale");
        assertEquals(scales[2], c.op().scaleH(), c.test() + ": height scale");
        assertEquals(scales[3], c.op().scaleW(), c.test() + ": width scale");
        Upsample.Geometry g = c.op().geometry(x);
        assertEquals(t.output().shape(), g.outputShape(), c.test() + ": output shape");
        return g;
    }
}
