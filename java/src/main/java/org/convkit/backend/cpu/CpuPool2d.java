package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.ops.Pool2d;
import org.convkit.tensor.Shape;

/**
 * maxpool2d and avgpool2d on the CPU. Work item = (plane, band of output rows). A window is
 * separable: the range of its taps inside the input, and its divisor, depend on the output row
 * and the output column independently, so both are tabulated once per kernel and the inner
 * loops carry no bounds tests. Max propagates NaN; averages sum in float over the window (at
 * most kh * kw terms) and divide by the tap count, with or without the padded taps.
 */
final class CpuPool2d extends Kernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Aim for this many work items per thread so that dynamic scheduling can balance. */
    private static final int ITEMS_PER_THREAD = 8;

    private final CpuDevice cpu;
    private final Pool2d.Geometry g;
    /** Per output row: first and past-last kernel row inside the input, divisor factor. */
    private final int[] rowLo;
    private final int[] rowHi;
    private final int[] rowCount;
    /** Per output column: the same for kernel columns. */
    private final int[] colLo;
    private final int[] colHi;
    private final int[] colCount;
    private final int rowsPerItem;
    private final int bands;

    CpuPool2d(CpuDevice device, Pool2d pool, Shape input) {
        super(device, pool, List.of(input));
        this.cpu = device;
        this.g = pool.geometry(input);
        rowLo = new int[g.oh()];
        rowHi = new int[g.oh()];
        rowCount = new int[g.oh()];
        tabulate(g.oh(), g.sh(), g.padTop(), g.padBottom(), g.kh(), g.dh(), g.h(), rowLo, rowHi, rowCount);
        colLo = new int[g.ow()];
        colHi = new int[g.ow()];
        colCount = new int[g.ow()];
        tabulate(g.ow(), g.sw(), g.padLeft(), g.padRight(), g.kw(), g.dw(), g.w(), colLo, colHi, colCount);
        long planes = (long) g.n() * g.c();
        long wanted = (long) device.threads() * ITEMS_PER_THREAD;
        int b = (int) Math.min(g.oh(), Math.max(1, (wanted + planes - 1) / planes));
        this.rowsPerItem = (g.oh() + b - 1) / b;
        this.bands = (g.oh() + rowsPerItem - 1) / rowsPerItem;
    }

    /** Fills the tap ranges and divisor factors of one axis. */
    private void tabulate(int out, int stride, int padBefore, int padAfter, int k, int d, int in, int[] lo, int[] hi,
            int[] count) {
        for (int o = 0; o < out; o++) {
            long start = (long) o * stride - padBefore;
            lo[o] = (int) firstTap(start, d);
            hi[o] = (int) Math.max(lo[o], endTap(start, k, d, in));
            // A window never starts before -padBefore, so counting padded taps clips only the far end.
            count[o] = g.countIncludePad() ? (int) endTap(start, k, d, (long) in + padAfter) : hi[o] - lo[o];
        }
    }

    /** First tap j >= 0 with start + j * d >= 0. */
    private static long firstTap(long start, int d) {
        return start >= 0 ? 0 : Math.ceilDiv(-start, d);
    }

    /** Past-last tap j <= k with start + j * d < limit (0 if the window starts at or past it). */
    private static long endTap(long start, int k, int d, long limit) {
        return start >= limit ? 0 : Math.min(k, (limit - 1 - start) / d + 1);
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment y = CpuDevice.segment(output);
        long items = (long) g.n() * g.c() * bands;
        if (items > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cpu " + describe() + ": too many work items (" + items + ")");
        }
        boolean max = g.mode() == Pool2d.Mode.MAX;
        cpu.parallelFor((int) items, item -> {
            int band = item % bands;
            long plane = item / bands;
            int oh0 = band * rowsPerItem;
            int oh1 = Math.min(g.oh(), oh0 + rowsPerItem);
            if (max) {
                maxBand(x, y, plane, oh0, oh1);
            } else {
                avgBand(x, y, plane, oh0, oh1);
            }
        });
    }

    private void maxBand(MemorySegment x, MemorySegment y, long plane, int oh0, int oh1) {
        final int inW = g.w();
        final int dw = g.dw();
        final long dRow = (long) g.dh() * inW;
        long xPlane = plane * g.h() * inW;
        long out = (plane * g.oh() + oh0) * g.ow();
        for (int oh = oh0; oh < oh1; oh++) {
            long rowBase = xPlane + (long) (oh * g.sh() - g.padTop()) * inW;
            int r1 = rowHi[oh];
            for (int ow = 0; ow < g.ow(); ow++, out++) {
                long base = rowBase + ow * g.sw() - g.padLeft();
                int s0 = colLo[ow];
                int s1 = colHi[ow];
                float m = Float.NEGATIVE_INFINITY;
                for (int r = rowLo[oh]; r < r1; r++) {
                    long row = base + r * dRow;
                    for (int s = s0; s < s1; s++) {
                        // Math.max returns NaN if either argument is NaN: a NaN input is never dropped.
                        m = Math.max(m, x.getAtIndex(F, row + (long) s * dw));
                    }
                }
                y.setAtIndex(F, out, m);
            }
        }
    }

    private void avgBand(MemorySegment x, MemorySegment y, long plane, int oh0, int oh1) {
        final int inW = g.w();
        final int dw = g.dw();
        final long dRow = (long) g.dh() * inW;
        long xPlane = plane * g.h() * inW;
        long out = (plane * g.oh() + oh0) * g.ow();
        for (int oh = oh0; oh < oh1; oh++) {
            long rowBase = xPlane + (long) (oh * g.sh() - g.padTop()) * inW;
            int r1 = rowHi[oh];
            for (int ow = 0; ow < g.ow(); ow++, out++) {
                long base = rowBase + ow * g.sw() - g.padLeft();
                int s0 = colLo[ow];
                int s1 = colHi[ow];
                float acc = 0f;
                for (int r = rowLo[oh]; r < r1; r++) {
                    long row = base + r * dRow;
                    for (int s = s0; s < s1; s++) {
                        acc += x.getAtIndex(F, row + (long) s * dw);
                    }
                }
                y.setAtIndex(F, out, acc / (rowCount[oh] * colCount[ow]));
            }
        }
    }
}
