package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.grad.BatchStatistics;
import org.convkit.tensor.Shape;

/**
 * The batch's mean and biased variance per channel on the CPU ({@link BatchStatistics}): a work
 * item per channel, two passes in double (the mean, then the squared deviations from it). Shared
 * with the training-form batch normalization and its gradients ({@link #compute}).
 */
final class CpuBatchStatistics extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final int n;
    private final int c;
    private final int s;

    CpuBatchStatistics(CpuDevice device, BatchStatistics op, List<Shape> inputs) {
        super(device, op, inputs);
        Shape in = inputs.get(0);
        this.n = in.dim(0);
        this.c = in.dim(1);
        this.s = (int) (in.elementCount() / ((long) n * c));
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        double[][] stats = compute(cpu, CpuDevice.segment(args.get(0)), n, c, s);
        MemorySegment out = CpuDevice.segment(output);
        for (int ch = 0; ch < c; ch++) {
            out.setAtIndex(F, ch, (float) stats[0][ch]);
            out.setAtIndex(F, c + ch, (float) stats[1][ch]);
        }
    }

    /** {@code {mean[C], biased variance[C]}} of x {@code [n, c, s]}, a channel per work item. */
    static double[][] compute(CpuDevice cpu, MemorySegment x, int n, int c, int s) {
        double[] mean = new double[c];
        double[] var = new double[c];
        long count = (long) n * s;
        cpu.parallelFor(c, ch -> {
            double sum = 0;
            for (int b = 0; b < n; b++) {
                long base = ((long) b * c + ch) * s;
                for (int i = 0; i < s; i++) {
                    sum += x.getAtIndex(F, base + i);
                }
            }
            double m = sum / count;
            double sq = 0;
            for (int b = 0; b < n; b++) {
                long base = ((long) b * c + ch) * s;
                for (int i = 0; i < s; i++) {
                    double d = x.getAtIndex(F, base + i) - m;
                    sq += d * d;
                }
            }
            mean[ch] = m;
            var[ch] = sq / count;
        });
        return new double[][] {mean, var};
    }
}
