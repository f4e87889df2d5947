package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.ops.ActivationOp;
import org.convkit.tensor.Shape;

/**
 * Standalone activations on the CPU: the tensor is cut into chunks of {@value #CHUNK} elements
 * taken by the threads; each chunk runs a loop specialised to the kind. Every comparison is false
 * for NaN and returns the input itself, so NaN passes through, as in the OpenCL kernel.
 */
final class CpuActivation extends Kernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Elements per work item: big enough to amortise the scheduling, small enough to balance. */
    static final int CHUNK = 1 << 14;

    private final CpuDevice cpu;
    private final ActivationOp.Kind kind;
    private final float alpha;
    private final float beta;
    private final long count;

    CpuActivation(CpuDevice device, ActivationOp op, Shape input) {
        super(device, op, List.of(input));
        this.cpu = device;
        this.kind = op.kind();
        this.alpha = op.alpha();
        this.beta = op.beta();
        this.count = input.elementCount();
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment y = CpuDevice.segment(output);
        long chunks = (count + CHUNK - 1) / CHUNK;
        if (chunks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cpu " + describe() + ": too many work items (" + chunks + ")");
        }
        cpu.parallelFor((int) chunks, item -> {
            long lo = (long) item * CHUNK;
            apply(x, y, lo, Math.min(count, lo + CHUNK));
        });
    }

    private void apply(MemorySegment x, MemorySegment y, long lo, long hi) {
        switch (kind) {
            case RELU -> {
                for (long i = lo; i < hi; i++) {
                    float v = x.getAtIndex(F, i);
                    y.setAtIndex(F, i, v < 0f ? 0f : v);
                }
            }
            case LEAKY_RELU -> {
                for (long i = lo; i < hi; i++) {
                    float v = x.getAtIndex(F, i);
                    y.setAtIndex(F, i, v < 0f ? alpha * v : v);
                }
            }
            case SIGMOID -> {
                for (long i = lo; i < hi; i++) {
                    y.setAtIndex(F, i, sigmoid(x.getAtIndex(F, i)));
                }
            }
            case TANH -> {
                for (long i = lo; i < hi; i++) {
                    y.setAtIndex(F, i, (float) Math.tanh(x.getAtIndex(F, i)));
                }
            }
            case HARD_SIGMOID -> {
                for (long i = lo; i < hi; i++) {
                    float t = alpha * x.getAtIndex(F, i) + beta;
                    y.setAtIndex(F, i, t < 0f ? 0f : (t > 1f ? 1f : t));
                }
            }
            case CLIP -> {
                for (long i = lo; i < hi; i++) {
                    float v = x.getAtIndex(F, i);
                    y.setAtIndex(F, i, v < alpha ? alpha : (v > beta ? beta : v));
                }
            }
        }
    }

    /** The logistic function without overflow: exp only of a non-positive number; NaN goes through exp. */
    static float sigmoid(float v) {
        if (v >= 0f) {
            return (float) (1.0 / (1.0 + Math.exp(-v)));
        }
        double e = Math.exp(v);
        return (float) (e / (1.0 + e));
    }
}
