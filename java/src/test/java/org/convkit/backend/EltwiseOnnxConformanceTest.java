package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.convkit.memory.Allocator;
import org.convkit.ops.Binary;
import org.convkit.ops.Concat;
import org.convkit.ops.Op;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.OnnxNodeData;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * add, mul and concat against ONNX's own conformance data ({@code shared/conformance/onnx/node/}:
 * test_add, test_add_bcast, test_mul and the twelve test_concat_* cases, 1-D included), on every
 * device found: the op is built from the node in {@code model.onnx} (op type, and the
 * {@code axis} attribute for Concat), run on the test's inputs, and compared with its output.
 *
 * <p><b>Tolerance: exact.</b> ONNX's expected outputs were computed by numpy in float32, where
 * + and * are correctly rounded as they are in our kernels, and concat copies; so every element
 * must equal the expected float bit for bit (ONNX's own runner would allow rtol 1e-3).
 */
class EltwiseOnnxConformanceTest {
    private static List<Device> devices;

    @BeforeAll
    static void open() {
        devices = TestDevices.openAll();
    }

    @AfterAll
    static void close() {
        TestDevices.closeAll(devices);
    }

    private static List<Path> folders() throws IOException {
        Path root = OnnxNodeData.nodeRoot();
        Assumptions.assumeTrue(root != null, "ONNX conformance data (shared/conformance/onnx/node) not found");
        try (Stream<Path> s = Files.list(root)) {
            List<Path> out = s.filter(p -> {
                String n = p.getFileName().toString();
                return n.equals("test_add") || n.equals("test_add_bcast") || n.equals("test_mul")
                        || n.startsWith("test_concat_");
            }).sorted().toList();
            // 3 binary tests and 12 concat tests (1-D to 3-D, every axis, negative ones too).
            assertEquals(15, out.size(), "conformance folders found: " + out);
            return out;
        }
    }

    private static Op op(OnnxNodeData.NodeCase c) {
        return switch (c.opType()) {
            case "Add" -> Binary.add();
            case "Mul" -> Binary.mul();
            case "Concat" -> Concat.of(Math.toIntExact(c.intAttributes().get("axis")));
            default -> throw new IllegalArgumentException(c.name() + ": unexpected op type " + c.opType());
        };
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceReproducesOnnx() throws IOException {
        List<OnnxNodeData.NodeCase> cases = new ArrayList<>();
        for (Path p : folders()) {
            cases.add(OnnxNodeData.read(p));
        }
        return devices.stream().flatMap(d -> cases.stream().map(c ->
                DynamicTest.dynamicTest(d.name() + " " + c.name(), () -> check(d, c))));
    }

    private static void check(Device device, OnnxNodeData.NodeCase c) {
        Op op = op(c);
        List<Shape> shapes = c.inputs().stream().map(OnnxNodeData.FloatTensor::shape).toList();
        assertEquals(c.output().shape(), op.outputShape(shapes), c.name() + ": output shape");
        Allocator host = Allocator.root("onnx conformance host");
        List<DeviceBuffer> args = new ArrayList<>();
        try (Kernel k = device.prepare(op, shapes);
                DeviceBuffer out = device.allocate(k.outputShape().byteSize(DType.F32), "output");
                Tensor poison = Tensor.allocate(k.outputShape(), DType.F32, host, "poison").fill(Float.NaN);
                Tensor result = Tensor.allocate(k.outputShape(), DType.F32, host, "result")) {
            for (OnnxNodeData.FloatTensor t : c.inputs()) {
                try (Tensor in = Tensor.of(t.shape(), t.values(), host, "input")) {
                    DeviceBuffer b = device.allocate(in.byteSize(), "input");
                    args.add(b);
                    device.upload(in, b);
                }
            }
            device.upload(poison, out);
            k.run(args, out);
            device.download(out, result);
            float[] y = result.toFloatArray();
            float[] expected = c.output().values();
            for (int i = 0; i < y.length; i++) {
                int at = i;
                assertTrue(Float.floatToIntBits(y[i]) == Float.floatToIntBits(expected[i]),
                        () -> device.name() + " " + c.name() + " (" + op.describe(shapes) + "): element " + at + " is "
                                + y[at] + ", ONNX expects " + expected[at]);
            }
        } finally {
            args.forEach(DeviceBuffer::close);
            host.close();
        }
        assertEquals(0, device.allocator().liveBytes(), () -> device.allocator().tree());
    }
}
