package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Pool2d;
import org.convkit.tensor.Shape;

/**
 * maxpool2d and avgpool2d on the CPU. Work item = (plane, band of output rows); it copies the
 * input rows its band reads into a float array, computes, and copies its outputs back. Loops run
 * tap by tap over a whole output row (as CpuConv2d does): for kernel tap (r, s) the output
 * columns whose input column lies inside the image form one span, tabulated once per kernel, so
 * the inner loop is long, has no bounds tests, and is contiguous at stride 1. Windows are
 * separable: the kernel rows inside the input and the divisor factors depend on the output row
 * or the output column alone, and are tabulated too. Max propagates NaN; averages sum in float
 * (at most kh * kw terms per output) and divide by the tap count, with or without padded taps.
 */
final class CpuPool2d extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final Pool2d.Geometry g;
    /** Per output row: first and past-last kernel row inside the input, divisor factor. */
    private final int[] rowLo;
    private final int[] rowHi;
    private final int[] rowCount;
    /** Per output column: divisor factor. */
    private final int[] colCount;
    /** Per kernel column s: the output columns [spanLo, spanHi) whose tap s lies inside the input. */
    private final int[] spanLo;
    private final int[] spanHi;
    private final int rowsPerItem;
    /** Per thread: the input rows of one band, and its outputs. */
    private final ThreadLocal<float[]> rows;
    private final ThreadLocal<float[]> outRows;

    CpuPool2d(CpuDevice device, Pool2d pool, Shape input) {
        super(device, pool, List.of(input));
        this.g = pool.geometry(input);
        rowLo = new int[g.oh()];
        rowHi = new int[g.oh()];
        rowCount = new int[g.oh()];
        tabulate(g.oh(), g.sh(), g.padTop(), g.padBottom(), g.kh(), g.dh(), g.h(), rowLo, rowHi, rowCount);
        colCount = new int[g.ow()];
        tabulate(g.ow(), g.sw(), g.padLeft(), g.padRight(), g.kw(), g.dw(), g.w(), new int[g.ow()], new int[g.ow()],
                colCount);
        spanLo = new int[g.kw()];
        spanHi = new int[g.kw()];
        for (int t = 0; t < g.kw(); t++) {
            long offset = (long) t * g.dw() - g.padLeft();
            spanLo[t] = (int) Math.min(g.ow(), offset >= 0 ? 0 : Math.ceilDiv(-offset, g.sw()));
            spanHi[t] = (int) Math.max(spanLo[t], Math.min(g.ow(), Math.floorDiv(g.w() - 1 - offset, g.sw()) + 1));
        }
        this.rowsPerItem = rowsPerBand((long) g.n() * g.c(), g.oh());
        // Input rows one band can read: (rowsPerItem - 1) strides plus one dilated window.
        long inRows = Math.min(g.h(), (long) (rowsPerItem - 1) * g.sh() + (long) (g.kh() - 1) * g.dh() + 1);
        long inSize = inRows * g.w();
        long outSize = (long) rowsPerItem * g.ow();
        if (inSize > Integer.MAX_VALUE || outSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cpu " + describe() + ": a band of " + rowsPerItem + " output rows needs "
                    + inSize + " input elements, more than a Java array holds");
        }
        this.rows = ThreadLocal.withInitial(() -> new float[(int) inSize]);
        this.outRows = ThreadLocal.withInitial(() -> new float[(int) outSize]);
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
        boolean max = g.mode() == Pool2d.Mode.MAX;
        forEachBand((long) g.n() * g.c(), g.oh(), rowsPerItem, (plane, oh0, oh1) -> {
            if (max) {
                maxBand(x, y, plane, oh0, oh1);
            } else {
                avgBand(x, y, plane, oh0, oh1);
            }
        });
    }

    /** Copies the input rows band [oh0, oh1) reads into a thread-local array; returns the first row copied. */
    private int loadRows(MemorySegment x, long plane, int oh0, int oh1, float[] rows) {
        int first = Math.max(0, oh0 * g.sh() - g.padTop());
        int last = Math.min(g.h(), (oh1 - 1) * g.sh() - g.padTop() + (g.kh() - 1) * g.dh() + 1);
        MemorySegment.copy(x, F, (plane * g.h() + first) * g.w() * Float.BYTES, rows, 0, (last - first) * g.w());
        return first;
    }

    private void maxBand(MemorySegment x, MemorySegment y, long plane, int oh0, int oh1) {
        final int ow = g.ow();
        final int sw = g.sw();
        final int dRow = g.dh() * g.w();
        float[] in = rows.get();
        float[] out = outRows.get();
        int first = loadRows(x, plane, oh0, oh1, in);
        Arrays.fill(out, 0, (oh1 - oh0) * ow, Float.NEGATIVE_INFINITY);
        for (int oh = oh0; oh < oh1; oh++) {
            int o0 = (oh - oh0) * ow;
            int rowBase = (oh * g.sh() - g.padTop() - first) * g.w() - g.padLeft();
            for (int r = rowLo[oh]; r < rowHi[oh]; r++) {
                int row = rowBase + r * dRow;
                for (int t = 0; t < g.kw(); t++) {
                    int src = row + t * g.dw();
                    for (int c = spanLo[t]; c < spanHi[t]; c++) {
                        // Math.max returns NaN if either argument is NaN: a NaN input is never dropped.
                        out[o0 + c] = Math.max(out[o0 + c], in[src + c * sw]);
                    }
                }
            }
        }
        MemorySegment.copy(out, 0, y, F, (plane * g.oh() + oh0) * ow * Float.BYTES, (oh1 - oh0) * ow);
    }

    private void avgBand(MemorySegment x, MemorySegment y, long plane, int oh0, int oh1) {
        final int ow = g.ow();
        final int sw = g.sw();
        final int dRow = g.dh() * g.w();
        float[] in = rows.get();
        float[] out = outRows.get();
        int first = loadRows(x, plane, oh0, oh1, in);
        Arrays.fill(out, 0, (oh1 - oh0) * ow, 0f);
        for (int oh = oh0; oh < oh1; oh++) {
            int o0 = (oh - oh0) * ow;
            int rowBase = (oh * g.sh() - g.padTop() - first) * g.w() - g.padLeft();
            for (int r = rowLo[oh]; r < rowHi[oh]; r++) {
                int row = rowBase + r * dRow;
                for (int t = 0; t < g.kw(); t++) {
                    int src = row + t * g.dw();
                    for (int c = spanLo[t]; c < spanHi[t]; c++) {
                        out[o0 + c] += in[src + c * sw];
                    }
                }
            }
            for (int c = 0; c < ow; c++) {
                out[o0 + c] /= rowCount[oh] * colCount[c];
            }
        }
        MemorySegment.copy(out, 0, y, F, (plane * g.oh() + oh0) * ow * Float.BYTES, (oh1 - oh0) * ow);
    }
}
