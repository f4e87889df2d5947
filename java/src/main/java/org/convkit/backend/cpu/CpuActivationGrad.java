package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.ActivationOp;
import org.convkit.ops.grad.ActivationGrad;
import org.convkit.tensor.Shape;

/**
 * The input gradient of a standalone activation on the CPU: {@code dx = dy * f'(v)} element by
 * element (see {@link ActivationGrad}), in chunks of {@link #CHUNK} elements spread over the
 * threads.
 */
final class CpuActivationGrad extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Elements per work item: large enough to amortise scheduling, small enough to balance. */
    static final int CHUNK = 1 << 14;

    private final ActivationOp.Kind kind;
    private final float alpha;
    private final float beta;
    private final long count;

    CpuActivationGrad(CpuDevice device, ActivationGrad op, List<Shape> inputs) {
        super(device, op, inputs);
        this.kind = op.activation().kind();
        this.alpha = op.activation().alpha();
        this.beta = op.activation().beta();
        this.count = op.outputShape().elementCount();
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment dy = CpuDevice.segment(args.get(0));
        MemorySegment v = CpuDevice.segment(args.get(1));
        MemorySegment dx = CpuDevice.segment(output);
        cpu.parallelFor(workItems((count + CHUNK - 1) / CHUNK), c -> {
            long end = Math.min(count, (long) (c + 1) * CHUNK);
            for (long i = (long) c * CHUNK; i < end; i++) {
                dx.setAtIndex(F, i, grad(dy.getAtIndex(F, i), v.getAtIndex(F, i)));
            }
        });
    }

    private float grad(float g, float v) {
        return switch (kind) {
            case RELU -> v > 0f ? g : 0f;
            case LEAKY_RELU -> v < 0f ? alpha * g : g;
            case SIGMOID -> g * (v * (1f - v));
            case TANH -> g * (1f - v * v);
            case HARD_SIGMOID -> v > 0f && v < 1f ? alpha * g : 0f;
            case CLIP -> v > alpha && v < beta ? g : 0f;
        };
    }
}
