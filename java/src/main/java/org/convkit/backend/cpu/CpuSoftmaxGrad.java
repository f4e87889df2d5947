package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Softmax;
import org.convkit.ops.grad.SoftmaxGrad;
import org.convkit.tensor.Shape;

/**
 * The input gradient of softmax on the CPU ({@link SoftmaxGrad}): {@code dx = y (dy - sum dy y)}
 * along each row, the dot product in double; a work item per outer index (its {@code inner} rows).
 */
final class CpuSoftmaxGrad extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final Softmax.Geometry g;

    CpuSoftmaxGrad(CpuDevice device, SoftmaxGrad op, List<Shape> inputs) {
        super(device, op, inputs);
        this.g = op.geometry();
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment dy = CpuDevice.segment(args.get(0));
        MemorySegment y = CpuDevice.segment(args.get(1));
        MemorySegment dx = CpuDevice.segment(output);
        long inner = g.inner();
        int length = g.length();
        cpu.parallelFor(workItems(g.outer()), o -> {
            for (long in = 0; in < inner; in++) {
                long base = (long) o * length * inner + in;
                double dot = 0;
                for (int k = 0; k < length; k++) {
                    long i = base + k * inner;
                    dot += (double) dy.getAtIndex(F, i) * y.getAtIndex(F, i);
                }
                for (int k = 0; k < length; k++) {
                    long i = base + k * inner;
                    dx.setAtIndex(F, i, (float) (y.getAtIndex(F, i) * (dy.getAtIndex(F, i) - dot)));
                }
            }
        });
    }
}
