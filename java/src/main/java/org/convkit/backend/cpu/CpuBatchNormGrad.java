package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.grad.BatchNormGrad;
import org.convkit.tensor.Shape;

/**
 * The input and scale gradients of batch normalization on the CPU ({@link BatchNormGrad}), both
 * forms: the statistics (the batch's, or the parameters') and the per-channel sums
 * {@code sum dy}, {@code sum dy (x - mean)} in double, a channel per work item, then the input
 * gradient a plane per work item. Deterministic: each sum in one fixed order.
 */
final class CpuBatchNormGrad extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final BatchNormGrad op;
    private final int n;
    private final int c;
    private final int s;

    CpuBatchNormGrad(CpuDevice device, BatchNormGrad op, List<Shape> inputs) {
        super(device, op, inputs);
        this.op = op;
        this.n = op.batch();
        this.c = op.channels();
        this.s = op.spatial();
    }

    /** The statistics and sums stay on the heap here; the op's workspace is for the GPU kernels. */
    @Override
    public long workspaceBytes() {
        return 0;
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment dy = CpuDevice.segment(args.get(0));
        MemorySegment out = CpuDevice.segment(output);
        double eps = op.epsilon();
        if (!op.training() && !op.isScale()) {
            MemorySegment scale = CpuDevice.segment(args.get(1));
            MemorySegment var = CpuDevice.segment(args.get(2));
            cpu.parallelFor(workItems((long) n * c), plane -> {
                int ch = plane % c;
                float f = (float) (scale.getAtIndex(F, ch) / Math.sqrt(var.getAtIndex(F, ch) + eps));
                long base = (long) plane * s;
                for (int i = 0; i < s; i++) {
                    out.setAtIndex(F, base + i, dy.getAtIndex(F, base + i) * f);
                }
            });
            return;
        }
        MemorySegment x = CpuDevice.segment(args.get(1));
        double[] mean = new double[c];
        double[] var = new double[c];
        if (op.training()) {
            double[][] stats = CpuBatchStatistics.compute(cpu, x, n, c, s);
            System.arraycopy(stats[0], 0, mean, 0, c);
            System.arraycopy(stats[1], 0, var, 0, c);
        } else {
            MemorySegment m = CpuDevice.segment(args.get(2));
            MemorySegment v = CpuDevice.segment(args.get(3));
            for (int ch = 0; ch < c; ch++) {
                mean[ch] = m.getAtIndex(F, ch);
                var[ch] = v.getAtIndex(F, ch);
            }
        }
        double[] sumDy = new double[c];
        double[] sumDyXm = new double[c];
        cpu.parallelFor(c, ch -> {
            double a = 0;
            double b = 0;
            for (int k = 0; k < n; k++) {
                long base = ((long) k * c + ch) * s;
                for (int i = 0; i < s; i++) {
                    double g = dy.getAtIndex(F, base + i);
                    a += g;
                    b += g * (x.getAtIndex(F, base + i) - mean[ch]);
                }
            }
            sumDy[ch] = a;
            sumDyXm[ch] = b;
        });
        if (op.isScale()) {
            for (int ch = 0; ch < c; ch++) {
                out.setAtIndex(F, ch, (float) (sumDyXm[ch] / Math.sqrt(var[ch] + eps)));
            }
            return;
        }
        MemorySegment scale = CpuDevice.segment(args.get(2));
        double count = (double) n * s;
        cpu.parallelFor(workItems((long) n * c), plane -> {
            int ch = plane % c;
            double inv = 1 / Math.sqrt(var[ch] + eps);
            double meanDy = sumDy[ch] / count;
            double meanDyXhat = sumDyXm[ch] * inv / count;
            double f = scale.getAtIndex(F, ch) * inv;
            long base = (long) plane * s;
            for (int i = 0; i < s; i++) {
                double xhat = (x.getAtIndex(F, base + i) - mean[ch]) * inv;
                out.setAtIndex(F, base + i, (float) (f * (dy.getAtIndex(F, base + i) - meanDy - xhat * meanDyXhat)));
            }
        });
    }
}
