package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Pool2d;
import org.convkit.tensor.Shape;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * maxpool2d and avgpool2d on the CPU. Work item = (plane, band of output rows); it computes its
 * outputs into a float array and copies them out in one piece. Windows are separable: the kernel rows inside the input and the divisor
 * factors depend on the output row or the output column alone, and are tabulated.
 *
 * <p>The vectorised path (the default) reduces each window in two passes per output row. The
 * column pass reduces the output row's kernel rows inside the input, 16 input columns at a time
 * straight from the input (the last columns masked), into one row padded on both sides with the
 * reduction's identity (-inf or 0, written once per thread). The row pass then reduces that row
 * over the kernel's columns, 16 output columns at a time: at stride 1 each tap is a plain shifted
 * load, at stride 2 the even lanes of two loads, at larger strides a gather; lanes past OW are
 * written into the next output row (written after) or the tile's slack. Reducing rows first
 * leaves the strided pass OH rows, not H. Max pooling stays exact: a maximum is one of its
 * inputs whatever the order, and both passes use Math.max's semantics (NaN propagates, -0 is
 * below +0). Averages sum in float (at most kh + kw - 1 additions per output) and divide by the
 * tap count, with or without padded taps, as the plain loops do.
 *
 * <p>The plain loops ({@code direct}) copy the input rows a band reads into a float array in one
 * piece, then run tap by tap over a whole output row: for kernel tap
 * (r, s) the output columns whose input column lies inside the image form one span, tabulated
 * once per kernel. The system property {@value CpuConv2d#PATH_PROPERTY}{@code =direct}, read
 * when a kernel is prepared, selects them: the baseline the benchmarks compare with.
 */
final class CpuPool2d extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Even lanes of two vectors, as indices for selectFrom (past the first vector: the second). */
    private static final FloatVector EVEN = FloatVector.zero(S).addIndex(2);

    private final Pool2d.Geometry g;
    private final boolean direct;
    private final boolean max;
    /** Per output row: first and past-last kernel row inside the input, divisor factor. */
    private final int[] rowLo;
    private final int[] rowHi;
    private final int[] rowCount;
    /** Per output column: divisor factor. */
    private final int[] colCount;
    /** Per kernel column s: the output columns [spanLo, spanHi) whose tap s lies inside the input. */
    private final int[] spanLo;
    private final int[] spanHi;
    /** Floats of the padded column-pass row: the row pass reads whole vectors of taps without bounds tests. */
    private final int wp;
    /** The image's columns in whole vectors. */
    private final int wv;
    /** Pitch of the row pass's partial rows: OW in whole vectors. */
    private final int owv;
    /** The column divisor factors as floats, whole vectors (1 past OW). */
    private final float[] colDivisor;
    /** Lane i reads column i * sw: the gather of strides above 2. */
    private final int[] strideMap;
    private final int rowsPerItem;
    /** Per thread: the input rows of one band, the padded column-pass row, and the band's outputs. */
    private final ThreadLocal<float[]> rows;
    private final ThreadLocal<float[]> padded;
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
        owv = Math.ceilDiv(g.ow(), L) * L;
        // The row pass reads padded columns up to (owv - 1) * sw + (kw - 1) * dw, and a stride-2 load one more.
        long reach = (long) (owv - 1) * g.sw() + (long) (g.kw() - 1) * g.dw() + 2;
        wv = Math.ceilDiv(g.w(), L) * L;
        long pitch = Math.max((long) g.padLeft() + wv, reach);
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
        int inRows = (int) Math.min(g.h(), (long) (rowsPerItem - 1) * g.sh() + (long) (g.kh() - 1) * g.dh() + 1);
        long inSize = (long) inRows * g.w();
        long outSize = (long) rowsPerItem * g.ow() + owv;
        if (inSize > Integer.MAX_VALUE || outSize > Integer.MAX_VALUE || pitch > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cpu " + describe() + ": a band of " + rowsPerItem + " output rows needs "
                    + inSize + " input elements, more than a Java array holds");
        }
        this.rows = ThreadLocal.withInitial(() -> new float[direct ? (int) inSize : 0]);
        this.wp = (int) pitch;
        // The pads are written once, here: a band overwrites only the image's columns.
        float padValue = max ? Float.NEGATIVE_INFINITY : 0f;
        this.padded = ThreadLocal.withInitial(() -> {
            float[] a = new float[direct ? 0 : (int) pitch];
            Arrays.fill(a, padValue);
            return a;
        });
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

    /** The vectorised path: per output row, the column pass into the padded row, then the row pass. */
    private void band(MemorySegment x, MemorySegment y, long plane, int oh0, int oh1) {
        final int ow = g.ow();
        final int w = g.w();
        final int padLeft = g.padLeft();
        float[] row = padded.get();
        float[] out = outRows.get();
        final long planeAt = plane * g.h() * w * Float.BYTES;
        final long pStep = (long) g.dh() * w * Float.BYTES;
        final int whole = w / L * L;
        for (int oh = oh0; oh < oh1; oh++) {
            long p0 = planeAt + (long) (oh * g.sh() - g.padTop() + rowLo[oh] * g.dh()) * w * Float.BYTES;
            int taps = rowHi[oh] - rowLo[oh];
            for (int j = 0; j < whole; j += L) {
                columns(x, p0 + (long) j * Float.BYTES, pStep, taps, null).intoArray(row, padLeft + j);
            }
            if (whole < w) {
                // The last columns, masked: a whole vector could run past the end of the input.
                VectorMask<Float> m = S.indexInRange(whole, w);
                columns(x, p0 + (long) whole * Float.BYTES, pStep, taps, m).intoArray(row, padLeft + whole, m);
            }
            rowPass(row, out, (oh - oh0) * ow, rowCount[oh]);
        }
        MemorySegment.copy(out, 0, y, F, (plane * g.oh() + oh0) * ow * Float.BYTES, (oh1 - oh0) * ow);
    }

    /** The column pass: reduces {@code taps} rows {@code pStep} bytes apart at byte {@code at}, 16 columns (or those of {@code m}). */
    private FloatVector columns(MemorySegment x, long at, long pStep, int taps, VectorMask<Float> m) {
        FloatVector acc = load(x, at, m);
        for (int r = 1; r < taps; r++) {
            at += pStep;
            FloatVector v = load(x, at, m);
            acc = max ? acc.max(v) : acc.add(v);
        }
        return acc;
    }

    private static FloatVector load(MemorySegment x, long at, VectorMask<Float> m) {
        return m == null ? FloatVector.fromMemorySegment(S, x, at, ORDER) : FloatVector.fromMemorySegment(S, x, at, ORDER, m);
    }

    /**
     * Reduces the padded row over the kernel's columns into {@code out[o0]}: OW results, and up to
     * the next whole vector lanes that land on the next output row's start (written after) or in
     * the slack. Averages are divided by their tap count here.
     */
    private void rowPass(float[] row, float[] out, int o0, float rowDivisor) {
        final int sw = g.sw();
        final int dw = g.dw();
        final int kw = g.kw();
        for (int c = 0; c < owv; c += L) {
            int at = c * sw;
            FloatVector acc = tap(row, at);
            for (int t = 1; t < kw; t++) {
                FloatVector v = tap(row, at + t * dw);
                acc = max ? acc.max(v) : acc.add(v);
            }
            if (!max) {
                acc = acc.div(FloatVector.fromArray(S, colDivisor, c).mul(rowDivisor));
            }
            acc.intoArray(out, o0 + c);
        }
    }

    /** The 16 elements {@code sw} apart from {@code row[at]}. */
    private FloatVector tap(float[] row, int at) {
        return switch (g.sw()) {
            case 1 -> FloatVector.fromArray(S, row, at);
            case 2 -> EVEN.selectFrom(FloatVector.fromArray(S, row, at), FloatVector.fromArray(S, row, at + L));
            default -> FloatVector.fromArray(S, row, at, strideMap, 0);
        };
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
