package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Upsample;
import org.convkit.ops.grad.UpsampleGrad;
import org.convkit.tensor.Shape;

/**
 * The input gradient of upsampling on the CPU ({@link UpsampleGrad}): a work item per (n, c) plane,
 * which owns its plane of dx and walks the outputs in order, adding each output's dy, times its
 * weights, to the (one or four) input pixels it read, with the forward's exact integer transforms.
 * Deterministic: each plane is summed by one work item in a fixed order.
 */
final class CpuUpsampleGrad extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final Upsample.Geometry g;

    CpuUpsampleGrad(CpuDevice device, UpsampleGrad op, List<Shape> inputs) {
        super(device, op, inputs);
        this.g = op.geometry();
    }

    /** Per output index of an axis: the two source indices and their weights (nearest: one index, weight 1). */
    private record Axis(int[] lo, int[] hi, float[] wLo, float[] wHi) {
        static Axis of(Upsample.Transform t, int out, int in, boolean bilinear) {
            int[] lo = new int[out];
            int[] hi = new int[out];
            float[] wLo = new float[out];
            float[] wHi = new float[out];
            for (int o = 0; o < out; o++) {
                long p = t.numerator(o);
                long f = Math.floorDiv(p, t.div());
                long rem = p - f * t.div();
                lo[o] = (int) Math.max(0, Math.min(in - 1, f));
                hi[o] = (int) Math.max(0, Math.min(in - 1, f + 1));
                wLo[o] = bilinear ? (float) (t.div() - rem) / t.div() : 1f;
                wHi[o] = bilinear ? (float) rem / t.div() : 0f;
            }
            return new Axis(lo, hi, wLo, wHi);
        }
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment dy = CpuDevice.segment(args.get(0));
        MemorySegment dx = CpuDevice.segment(output);
        boolean bilinear = g.mode() == Upsample.Mode.BILINEAR;
        Axis rows = Axis.of(g.rows(), g.oh(), g.h(), bilinear);
        Axis cols = Axis.of(g.cols(), g.ow(), g.w(), bilinear);
        int hw = g.h() * g.w();
        cpu.parallelFor(workItems((long) g.n() * g.c()), p -> {
            float[] acc = new float[hw];
            for (int oh = 0; oh < g.oh(); oh++) {
                long row = ((long) p * g.oh() + oh) * g.ow();
                for (int ow = 0; ow < g.ow(); ow++) {
                    float d = dy.getAtIndex(F, row + ow);
                    add(acc, rows.lo()[oh], rows.wLo()[oh], cols, ow, d);
                    if (bilinear) {
                        add(acc, rows.hi()[oh], rows.wHi()[oh], cols, ow, d);
                    }
                }
            }
            MemorySegment.copy(acc, 0, dx, F, (long) p * hw * Float.BYTES, hw);
        });
    }

    private void add(float[] acc, int ih, float wr, Axis cols, int ow, float d) {
        int base = ih * g.w();
        acc[base + cols.lo()[ow]] += wr * cols.wLo()[ow] * d;
        if (g.mode() == Upsample.Mode.BILINEAR) {
            acc[base + cols.hi()[ow]] += wr * cols.wHi()[ow] * d;
        }
    }
}
