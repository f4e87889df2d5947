package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Lrn;
import org.convkit.ops.grad.LrnGrad;
import org.convkit.tensor.Shape;

/**
 * The input gradient of LRN on the CPU ({@link LrnGrad}): a work item per (n, band of positions);
 * for each position the channel bases {@code D[c]} and the terms {@code dy x D^(-beta-1)} once, in
 * double, then each channel's gradient from its window of them.
 */
final class CpuLrnGrad extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final Lrn.Geometry g;
    private final int positionsPerItem;

    CpuLrnGrad(CpuDevice device, LrnGrad op, List<Shape> inputs) {
        super(device, op, inputs);
        this.g = op.geometry();
        this.positionsPerItem = rowsPerBand(g.n(), g.spatial());
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment dy = CpuDevice.segment(args.get(0));
        MemorySegment x = CpuDevice.segment(args.get(1));
        MemorySegment dx = CpuDevice.segment(output);
        int c = g.c();
        int s = g.spatial();
        double beta = g.beta();
        forEachBand(g.n(), s, positionsPerItem, (n, s0, s1) -> {
            double[] xs = new double[c];
            double[] base = new double[c];
            double[] term = new double[c];
            for (int p = s0; p < s1; p++) {
                long at = (long) n * c * s + p;
                for (int ch = 0; ch < c; ch++) {
                    xs[ch] = x.getAtIndex(F, at + (long) ch * s);
                }
                for (int ch = 0; ch < c; ch++) {
                    double sum = 0;
                    for (int k = Math.max(0, ch - g.before()); k <= Math.min(c - 1, ch + g.after()); k++) {
                        sum += xs[k] * xs[k];
                    }
                    base[ch] = g.bias() + g.scale() * sum;
                    term[ch] = dy.getAtIndex(F, at + (long) ch * s) * xs[ch] * Math.pow(base[ch], -beta - 1);
                }
                for (int ch = 0; ch < c; ch++) {
                    double acc = 0;
                    for (int j = Math.max(0, ch - g.after()); j <= Math.min(c - 1, ch + g.before()); j++) {
                        acc += term[j];
                    }
                    double v = dy.getAtIndex(F, at + (long) ch * s) * Math.pow(base[ch], -beta)
                            - 2 * beta * g.scale() * xs[ch] * acc;
                    dx.setAtIndex(F, at + (long) ch * s, (float) v);
                }
            }
        });
    }
}
