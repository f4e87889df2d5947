package org.convkit.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;

import org.convkit.backend.Device;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.memory.Allocator;
import org.convkit.ops.grad.Gradient;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * Runs one term of a case's backward pass on one device and compares it with the case's
 * {@link GradReference}, as {@link OpHarness} does for forward ops:
 *
 * <ol>
 *   <li>the forward data of {@link GradCase#state} (random arguments, never zeros, the reference's
 *       output rounded to float, a random dy; drawn again, up to 8 times, while the expected
 *       gradient is all zeros, e.g. a fused ReLU that is off everywhere), of which the term's op gets
 *       exactly the operands it names, so an operand it needs but does not name cannot be read;</li>
 *   <li>the output buffer filled with NaN before the kernel runs; every element finite and within
 *       {@code tolerance * max(magnitude, floor)} of the reference;</li>
 *   <li>the kernel run a second time into a second poisoned buffer: the two results must be equal
 *       bit for bit (no atomics, no order that depends on timing);</li>
 *   <li>device and host allocators back at zero live bytes afterwards.</li>
 * </ol>
 */
public final class GradHarness {
    private GradHarness() {
    }

    /** Checks term {@code g} of case {@code c} on {@code device}; returns the largest scaled error. */
    public static double check(Device device, GradCase c, Gradient g, double tolerance, double floor) {
        String what = device.name() + " " + g.op().describe(GradCheck.operandShapes(c, g));
        List<Shape> shapes = GradCheck.operandShapes(c, g);
        int k = GradCheck.argumentIndex(c.op(), g);
        GradCase.State state = null;
        GradReference.Grad expected = null;
        for (int attempt = 0; attempt < 8 && (expected == null || allZero(expected.value())); attempt++) {
            state = c.state(attempt);
            expected = c.reference().backward(state.args64(), GradCase.State.widen(state.y()),
                    GradCase.State.widen(state.dy())).get(k);
            if (expected == null) {
                fail(what + ": the reference has no gradient for argument " + k);
            }
        }
        double[] scale = new double[expected.magnitude().length];
        for (int i = 0; i < scale.length; i++) {
            scale[i] = Math.max(expected.magnitude()[i], floor);
        }
        double worst = 0;
        Allocator host = Allocator.root("grad harness host");
        List<DeviceBuffer> args = new ArrayList<>();
        try (Kernel kernel = device.prepare(g.op(), shapes)) {
            Shape outShape = kernel.outputShape();
            for (int i = 0; i < shapes.size(); i++) {
                float[] values = operand(c, state, g.operands().get(i));
                try (Tensor t = Tensor.of(shapes.get(i), values, host, "operand " + i)) {
                    DeviceBuffer b = device.allocate(t.byteSize(), g.op().name() + " operand " + i);
                    args.add(b);
                    device.upload(t, b);
                }
            }
            try (Tensor poison = Tensor.allocate(outShape, DType.F32, host, "poison").fill(Float.NaN);
                    Tensor first = Tensor.allocate(outShape, DType.F32, host, "result");
                    Tensor second = Tensor.allocate(outShape, DType.F32, host, "rerun");
                    DeviceBuffer out = device.allocate(poison.byteSize(), "output");
                    DeviceBuffer out2 = device.allocate(poison.byteSize(), "rerun output");
                    DeviceBuffer ws = kernel.workspaceBytes() > 0 ? device.allocate(kernel.workspaceBytes(), "workspace")
                            : null) {
                device.upload(poison, out);
                device.upload(poison, out2);
                kernel.run(args, out, ws);
                kernel.run(args, out2, ws);
                device.download(out, first);
                device.download(out2, second);
                float[] y = first.toFloatArray();
                OpHarness.compare(what, outShape, y, new OpHarness.Expected(expected.value(), scale), tolerance);
                for (int i = 0; i < y.length; i++) {
                    worst = Math.max(worst, Math.abs(y[i] - expected.value()[i]) / scale[i]);
                }
                float[] y2 = second.toFloatArray();
                for (int i = 0; i < y.length; i++) {
                    if (Float.floatToRawIntBits(y[i]) != Float.floatToRawIntBits(y2[i])) {
                        fail(what + ": element " + i + " is " + y[i] + " on the first run and " + y2[i]
                                + " on the second; the kernel must be deterministic");
                    }
                }
            }
        } finally {
            args.forEach(DeviceBuffer::close);
            host.close();
        }
        assertEquals(0, device.allocator().liveBytes(), () -> "device buffers left after " + what + ":\n"
                + device.allocator().tree());
        return worst;
    }

    private static boolean allZero(double[] v) {
        for (double d : v) {
            if (d != 0) {
                return false;
            }
        }
        return true;
    }

    /** The data of one operand. */
    private static float[] operand(GradCase c, GradCase.State s, Gradient.Operand o) {
        return switch (o.kind()) {
            case OUTPUT_GRADIENT -> s.dy();
            case OUTPUT -> s.y();
            case INPUT -> s.args().get(o.index());
            case PARAMETER -> s.args().get(c.op().arity() + o.index());
        };
    }

}
