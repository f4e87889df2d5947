package org.convkit.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.convkit.backend.Device;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.memory.Allocator;
import org.convkit.ops.Op;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * Runs one op on one device with given argument values and returns the raw output, NaN and
 * infinities included: for the tests that check what {@link OpHarness} deliberately refuses
 * (non-finite inputs and outputs, e.g. NaN propagation). The output buffer is poisoned with a
 * value no kernel here produces (-7777) so that an unwritten element is visible; buffers are
 * closed and the device's allocator checked at zero afterwards.
 */
public final class RawRun {
    /** What an element the kernel did not write reads as. */
    public static final float UNWRITTEN = -7777f;

    private RawRun() {
    }

    /** Runs {@code op} on {@code inputs} with arguments (inputs, then parameters) {@code values}. */
    public static float[] run(Device device, Op op, List<Shape> inputs, List<float[]> values) {
        Allocator host = Allocator.root("raw run host");
        List<Tensor> tensors = new ArrayList<>();
        List<DeviceBuffer> args = new ArrayList<>();
        try (Kernel kernel = device.prepare(op, inputs)) {
            List<Shape> shapes = kernel.argumentShapes();
            if (values.size() != shapes.size()) {
                throw new IllegalArgumentException(op.describe(inputs) + ": " + values.size() + " argument arrays for "
                        + shapes);
            }
            for (int i = 0; i < shapes.size(); i++) {
                Tensor t = Tensor.of(shapes.get(i), values.get(i), host, "arg" + i);
                tensors.add(t);
                DeviceBuffer b = device.allocate(t.byteSize(), "arg" + i);
                args.add(b);
                device.upload(t, b);
            }
            Shape outShape = kernel.outputShape();
            try (Tensor poison = Tensor.allocate(outShape, DType.F32, host, "poison").fill(UNWRITTEN);
                    Tensor result = Tensor.allocate(outShape, DType.F32, host, "result");
                    DeviceBuffer out = device.allocate(poison.byteSize(), "output");
                    DeviceBuffer ws = kernel.workspaceBytes() > 0 ? device.allocate(kernel.workspaceBytes(), "workspace") : null) {
                device.upload(poison, out);
                kernel.run(args, out, ws);
                device.download(out, result);
                return result.toFloatArray();
            }
        } finally {
            args.forEach(DeviceBuffer::close);
            tensors.forEach(Tensor::close);
            host.close();
            assertEquals(0, device.allocator().liveBytes(), () -> "device buffers left after " + op.describe(inputs)
                    + ":\n" + device.allocator().tree());
        }
    }
}
