package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Pool2d;
import org.convkit.tensor.Shape;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * maxpool2d and avgpool2d on the CPU. Work item = (plane, band of output rows); it copies the
 * input rows its band reads into a float array in one piece, computes, and copies its outputs
 * back in one piece. Windows are separable: the kernel rows inside the input and the divisor
 * factors depend on the output row or the output column alone, and are tabulated.
 *
 * <p>The vectorised path (the default) reduces each window in two passes. The row pass reduces
 * every input row of the band over the kernel's columns into a row of OW partial results, 16
 * output columns at a time: at stride 1 each tap is a plain shifted load, at stride 2 the even
 * lanes of two loads, at larger strides a gather. Output columns whose window reaches into the
 * left or right padding are done by scalar code; the last vector of the interior overlaps the one
 * before rather than falling back to scalar code. The column pass then reduces, for each output
 * row, the partial rows of its kernel rows inside the input, whole vectors at a time. Max
 * pooling stays exact: a maximum is one of its inputs whatever the order (Math.max semantics in
 * both passes, so NaN propagates and -0 is below +0). Averages sum in float (at most kh + kw
 * terms per sum) and divide by the tap count, with or without padded taps, as the plain loops do.
 *
 * <p>The plain loops ({@code direct}) run tap by tap over a whole output row: for kernel tap
 * (r, s) the output columns whose input column lies inside the image form one span, tabulated
 * once per kernel. The system property {@value CpuConv2d#PATH_PROPERTY}{@code =direct}, read
 * when a kernel is prepared, selects them: the baseline the benchmarks compare with.
 */
final class CpuPool2d extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Even lanes of two vectors (indices past the first select from the second). */
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(S, i -> 2 * i);

    private final Pool2d.Geometry g;
    private final boolean direct;
    private final boolean max;
    /** Per output row: first and past-last kernel row inside the input, divisor factor. */
    private final int[] rowLo;
    private final int[] rowHi;
    private final int[] rowCount;
    /** Per output column: first and past-last kernel column inside the input, divisor factor. */
    private final int[] colLo;
    private final int[] colHi;
    private final int[] colCount;
    /** Per kernel column s: the output columns [spanLo, spanHi) whose tap s lies inside the input. */
    private final int[] spanLo;
    private final int[] spanHi;
    /** Output columns [cLo, cHi) read only columns inside the input: the row pass's vector range. */
    private final int cLo;
    private final int cHi;
    /** Pitch of the row pass's partial rows: OW in whole vectors. */
    private final int owv;
    /** The column divisor factors as floats, whole vectors (1 past OW). */
    private final float[] colDivisor;
    /** Lane i reads column i * sw: the gather of strides above 2. */
    private final int[] strideMap;
    private final int rowsPerItem;
    private final int inRows;
    /** Per thread: the input rows of one band, their partial rows, and the band's outputs. */
    private final ThreadLocal<float[]> rows;
    private final ThreadLocal<float[]> partials;
    private final ThreadLocal<float[]> outRows;

    CpuPool2d(CpuDevice device, Pool2d pool, Shape input) {
        this(device, pool, input, "direct".equals(System.getProperty(CpuConv2d.PATH_PROPERTY)));
    }

    CpuPool2d(CpuDevice device, Pool2d pool, Shape input, boolean direct) {
        super(device, pool, List.of(input));
        this.g = pool.geometry(input);
        this.direct = direct;
        this.max = g.mode() == Pool2d.Mode.MAX;
        rowLo = new int[g.oh()];
        rowHi = new int[g.oh()];
        rowCount = new int[g.oh()];
        tabulate(g.oh(), g.sh(), g.padTop(), g.padBottom(), g.kh(), g.dh(), g.h(), rowLo, rowHi, rowCount);
        colLo = new int[g.ow()];
        colHi = new int[g.ow()];
        colCount = new int[g.ow()];
        tabulate(g.ow(), g.sw(), g.padLeft(), g.padRight(), g.kw(), g.dw(), g.w(), colLo, colHi, colCount);
        spanLo = new int[g.kw()];
        spanHi = new int[g.kw()];
        for (int t = 0; t < g.kw(); t++) {
            long offset = (long) t * g.dw() - g.padLeft();
            spanLo[t] = (int) Math.min(g.ow(), offset >= 0 ? 0 : Math.ceilDiv(-offset, g.sw()));
            spanHi[t] = (int) Math.max(spanLo[t], Math.min(g.ow(), Math.floorDiv(g.w() - 1 - offset, g.sw()) + 1));
        }
        cLo = (int) Math.min(g.ow(), Math.ceilDiv((long) g.padLeft(), g.sw()));
        long lastStart = (long) g.w() - 1 - (long) (g.kw() - 1) * g.dw() + g.padLeft();
        cHi = (int) Math.max(cLo, Math.min(g.ow(), lastStart < 0 ? 0 : lastStart / g.sw() + 1));
        owv = Math.ceilDiv(g.ow(), L) * L;
        colDivisor = new float[owv];
        Arrays.fill(colDivisor, 1f);
        for (int c = 0; c < g.ow(); c++) {
            colDivisor[c] = colCount[c];
        }
        strideMap = new int[L];
        for (int i = 0; i < L; i++) {
            strideMap[i] = i * g.sw();
        }
        this.rowsPerItem = rowsPerBand((long) g.n() * g.c(), g.oh());
        // Input rows one band can read: (rowsPerItem - 1) strides plus one dilated window.
        this.inRows = (int) Math.min(g.h(), (long) (rowsPerItem - 1) * g.sh() + (long) (g.kh() - 1) * g.dh() + 1);
        // Slack: a stride-2 vector reads one float past its last even lane.
        long inSize = (long) inRows * g.w() + 2L * L;
        long partialSize = (long) inRows * owv;
        long outSize = (long) rowsPerItem * g.ow() + owv;
        if (inSize > Integer.MAX_VALUE || outSize > Integer.MAX_VALUE || partialSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cpu " + describe() + ": a band of " + rowsPerItem + " output rows needs "
                    + inSize + " input elements, more than a Java array holds");
        }
        this.rows = ThreadLocal.withInitial(() -> new float[(int) inSize]);
        this.partials = ThreadLocal.withInitial(() -> new float[direct ? 0 : (int) partialSize]);
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
        forEachBand((long) g.n() * g.c(), g.oh(), rowsPerItem, (plane, oh0, oh1) -> {
            if (!direct) {
                band(x, y, plane, oh0, oh1);
            } else if (max) {
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

    /** The vectorised path: the row pass over the band's input rows, then the column pass. */
    private void band(MemorySegment x, MemorySegment y, long plane, int oh0, int oh1) {
        final int ow = g.ow();
        float[] in = rows.get();
        float[] part = partials.get();
        float[] out = outRows.get();
        int first = loadRows(x, plane, oh0, oh1, in);
        int last = Math.min(g.h(), (oh1 - 1) * g.sh() - g.padTop() + (g.kh() - 1) * g.dh() + 1);
        for (int i = 0; i < last - first; i++) {
            rowPass(in, i * g.w(), part, i * owv);
        }
        for (int oh = oh0; oh < oh1; oh++) {
            int o0 = (oh - oh0) * ow;
            int p0 = (oh * g.sh() - g.padTop() - first + rowLo[oh] * g.dh()) * owv;
            int pStep = g.dh() * owv;
            int taps = rowHi[oh] - rowLo[oh];
            float rowDivisor = rowCount[oh];
            // Whole vectors: the lanes past OW land on the next row's start, written after, or in the slack.
            for (int c = 0; c < ow; c += L) {
                FloatVector acc = FloatVector.fromArray(S, part, p0 + c);
                for (int r = 1, p = p0 + pStep + c; r < taps; r++, p += pStep) {
                    FloatVector v = FloatVector.fromArray(S, part, p);
                    acc = max ? acc.max(v) : acc.add(v);
                }
                if (!max) {
                    acc = acc.div(FloatVector.fromArray(S, colDivisor, c).mul(rowDivisor));
                }
                acc.intoArray(out, o0 + c);
            }
        }
        MemorySegment.copy(out, 0, y, F, (plane * g.oh() + oh0) * ow * Float.BYTES, (oh1 - oh0) * ow);
    }

    /** Reduces the input row at {@code in[src]} over the kernel's columns into {@code part[dst]}, OW results. */
    private void rowPass(float[] in, int src, float[] part, int dst) {
        final int sw = g.sw();
        final int dw = g.dw();
        final int kw = g.kw();
        final int base = src - g.padLeft();
        int vecEnd = cLo;
        if (cHi - cLo >= L) {
            for (int c = cLo; c < cHi; c += L) {
                // The last vector overlaps the one before: same results, no scalar tail.
                int cc = Math.min(c, cHi - L);
                int at = base + cc * sw;
                FloatVector acc = tap(in, at);
                for (int t = 1; t < kw; t++) {
                    FloatVector v = tap(in, at + t * dw);
                    acc = max ? acc.max(v) : acc.add(v);
                }
                acc.intoArray(part, dst + cc);
            }
            vecEnd = cHi;
        }
        scalarColumns(in, base, part, dst, 0, cLo);
        scalarColumns(in, base, part, dst, vecEnd, g.ow());
    }

    /** The 16 input elements {@code sw} apart from {@code in[at]}. */
    private FloatVector tap(float[] in, int at) {
        return switch (g.sw()) {
            case 1 -> FloatVector.fromArray(S, in, at);
            case 2 -> FloatVector.fromArray(S, in, at).rearrange(EVEN, FloatVector.fromArray(S, in, at + L));
            default -> FloatVector.fromArray(S, in, at, strideMap, 0);
        };
    }

    /** Output columns [c0, c1) of the row pass, taps tested against the row's ends. */
    private void scalarColumns(float[] in, int base, float[] part, int dst, int c0, int c1) {
        for (int c = c0; c < c1; c++) {
            int at = base + c * g.sw();
            float acc = max ? Float.NEGATIVE_INFINITY : 0f;
            for (int t = colLo[c]; t < colHi[c]; t++) {
                float v = in[at + t * g.dw()];
                acc = max ? Math.max(acc, v) : acc + v;
            }
            part[dst + c] = acc;
        }
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
