package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Depthwise convolution (groups = input channels, any channel multiplier, stride, dilation and
 * padding) as vectorised loops over flattened positions, one input channel at a time
 * ({@link #load}), then each of its output channels ({@link #compute} into heap rows,
 * {@link #store} into the output tensor). Small planes make the overheads the cost (a 19x19
 * channel is about 250 vector FMAs), so each step is a few bulk moves and straight vector loops.
 * Two layouts of the loaded channel:
 * <ul>
 *   <li>Compact (stride 1 and OW = W, e.g. SAME padding): the input rows as they are, one bulk
 *       copy out of native memory, between zero rows (the padding above and below, zeroed once
 *       per work item by {@link #begin}). Output position p = oh * W + ow reads tap (r, s) at
 *       {@code p + r*dh*W + s*dw}: every tap is a contiguous run, and the outputs come out in the
 *       tensor's own layout, so the plane is one stream of positions with nothing to compact
 *       afterwards. A tap column s that falls left or right of the image reads the neighbouring
 *       row's pixel instead of a zero; a per-position mask (computed once per shape) leaves
 *       those products out, one masked add per column. A 19x19 plane is 23 vectors this way.</li>
 *   <li>Slab (the rest: strides, VALID-like widths): a one-channel {@link PhaseSlab}, where each
 *       tap is a contiguous run of positions of pitch {@code wq} (a few columns more than OW);
 *       the positions land in a tile whose rows are then compacted with vector moves. Stride 2
 *       (MobileNet's downsampling layers) fills the slab here ({@link #loadHalves}): one bulk copy,
 *       then each row split into its even and odd columns a vector at a time; the general fill
 *       went element by element on rows shorter than two vectors and cost twice the taps.</li>
 * </ul>
 * 3x3 kernels keep their nine weights in registers across the stream, each column of taps in its
 * own chain. (A second vector per iteration in the compact loop, tried for more chains, ran 2.5
 * times slower.)
 */
final class DepthwiseRows {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Lane indices of the even and odd lanes of two vectors, for {@code selectFrom} (past the first: the second). */
    private static final FloatVector EVEN = FloatVector.fromArray(S, lanes(0), 0);
    private static final FloatVector ODD = FloatVector.fromArray(S, lanes(1), 0);

    private final Conv2d.Geometry g;
    private final boolean relu;
    private final int taps;
    /** Stride 1 and OW = W: the compact layout (see the class comment); otherwise the slab. */
    private final boolean compact;
    private final PhaseSlab slab;
    /** Offset of each tap (r * kw + s) from the position, in the loaded channel. */
    private final int[] tap;
    /** Compact layout: per tap column s, whether position p reads inside the image ({@code null}: everywhere). */
    private final boolean[][] inside;
    /** Compact layout: floats of the loaded channel. */
    private final int compactLength;
    /** Slab layout, stride 2 on both axes with every phase used: filled here from staged rows (see {@link #loadHalves}). */
    private final boolean halves;
    /** Halves: per column phase, which elements of a phase row lie inside the image (the rest is padding). */
    private final boolean[][] halfInside;
    /** Halves: which elements of a vector-rounded phase row are in the row (pitch wq). */
    private final boolean[] halfRow;

    DepthwiseRows(Conv2d.Geometry g, int rowsMax) {
        this.g = g;
        this.relu = g.activation() == Activation.RELU;
        this.taps = g.kh() * g.kw();
        this.slab = new PhaseSlab(g, rowsMax);
        if ((long) rowsMax * slab.wq + L > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("cpu conv2d: depthwise band too large for heap arrays");
        }
        this.compact = compact(g);
        this.tap = new int[taps];
        this.inside = new boolean[g.kw()][];
        int w = g.w();
        int positions = Math.ceilDiv(rowsMax * w, L) * L;
        if (compact) {
            long length = g.padLeft() + (long) (rowsMax + (g.kh() - 1) * g.dh()) * w + (g.kw() - 1) * g.dw() + 2L * L;
            if (length > Integer.MAX_VALUE / 4) {
                throw new IllegalArgumentException("cpu conv2d: depthwise band too large for heap arrays");
            }
            this.compactLength = (int) length;
            for (int s = 0; s < g.kw(); s++) {
                int shift = s * g.dw() - g.padLeft();
                if (shift >= 0 && w - 1 + shift < w) {
                    continue;
                }
                boolean[] m = new boolean[positions];
                for (int p = 0; p < positions; p++) {
                    int iw = p % w + shift;
                    m[p] = iw >= 0 && iw < w;
                }
                inside[s] = m;
            }
        } else {
            this.compactLength = 0;
        }
        this.halves = halves(g);
        int wq = slab.wq;
        int rounded = Math.ceilDiv(wq, L) * L;
        this.halfInside = new boolean[2][rounded];
        this.halfRow = new boolean[rounded];
        for (int j = 0; j < rounded; j++) {
            halfRow[j] = j < wq;
            for (int px = 0; px < 2; px++) {
                int iw = 2 * j + px - g.padLeft();
                halfInside[px][j] = j < wq && iw >= 0 && iw < w;
            }
        }
        for (int r = 0; r < g.kh(); r++) {
            for (int s = 0; s < g.kw(); s++) {
                tap[r * g.kw() + s] = compact ? r * g.dh() * w + s * g.dw() : slab.tap(0, r, s);
            }
        }
    }

    /** Whether a shape takes the compact layout (see the class comment). */
    static boolean compact(Conv2d.Geometry g) {
        return g.sh() == 1 && g.sw() == 1 && g.ow() == g.w();
    }

    /** Whether a shape's slab is filled by halves: stride 2 on both axes, every phase used (dilation 1, kernel at least 2). */
    static boolean halves(Conv2d.Geometry g) {
        return g.sh() == 2 && g.sw() == 2 && g.dh() == 1 && g.dw() == 1 && g.kh() >= 2 && g.kw() >= 2
                && g.padLeft() <= L;
    }

    /** Floats of the channel {@link #load} lays out. */
    int inputLength() {
        return compact ? compactLength : slab.length(1);
    }

    /** Floats of the staging buffer {@link #load} needs. */
    int stageLength() {
        if (halves) {
            // The image's rows from a vector in, and two vectors and two phase rows of slack.
            return L + g.h() * g.w() + 2 * slab.wq + 3 * L;
        }
        return compact ? 0 : slab.stageLength();
    }

    /**
     * Floats of the tile {@link #compute} needs: a band's positions in the slab, in whole vectors
     * and one more, which the compaction of the last row may load whole.
     */
    int tileLength() {
        return compact ? 0 : Math.ceilDiv(slab.positions(slab.rowsMax), L) * L + L;
    }

    /** Floats of the plane {@link #store} needs: OH x OW and the vector that the last one may run past it. */
    int planeLength() {
        return g.oh() * g.ow() + L;
    }

    /** Output channels per input channel. */
    int multiplier() {
        return g.oc() / g.c();
    }

    /**
     * Readies {@code in} ({@link #inputLength()}) for the {@link #load}s of one work item (one
     * band of rows): in the compact layout those write only where the image is, so the padding
     * is zeroed here, once.
     */
    void begin(float[] in) {
        if (compact) {
            Arrays.fill(in, 0, compactLength, 0f);
        } else if (halves) {
            Arrays.fill(in, 0, slab.length(1), 0f);
        }
    }

    /**
     * Lays out input channel c of image n for output rows [oh0, oh1) into {@code in}
     * ({@link #inputLength()}; {@link #begin} called on it in this work item, for this band).
     */
    void load(MemorySegment x, int n, int c, int oh0, int oh1, float[] in, float[] stage) {
        long plane = ((long) n * g.c() + c) * g.h() * g.w();
        if (halves) {
            loadHalves(x, plane, oh0, oh1, in, stage);
            return;
        }
        if (!compact) {
            slab.fill(x, plane, 1, oh0, oh1, in, 0, stage);
            return;
        }
        // Loaded row i is input row oh0 - padTop + i; those inside the image move in one piece.
        int rows = oh1 - oh0 + (g.kh() - 1) * g.dh();
        int top = oh0 - g.padTop();
        int first = Math.max(0, -top);
        int last = Math.min(rows, g.h() - top);
        if (last > first) {
            MemorySegment.copy(x, F, (plane + (long) (top + first) * g.w()) * Float.BYTES, in,
                    g.padLeft() + first * g.w(), (last - first) * g.w());
        }
    }

    /**
     * Stride 2 (both axes, every phase used): the slab's four phase planes, each input row read
     * once from the staged rows (one bulk copy) and split into its even and odd columns a vector
     * at a time, padding lanes zeroed; rows above and below the image stay as {@link #begin} left
     * them. Plane (py, px) row i is padded input row 2 * (oh0 + i) + py.
     */
    private void loadHalves(MemorySegment x, long plane, int oh0, int oh1, float[] in, float[] stage) {
        int w = g.w();
        int wq = slab.wq;
        int rows = oh1 - oh0 + (g.kh() - 1) / 2;
        int first = Math.max(0, 2 * oh0 - g.padTop());
        int last = Math.min(g.h(), 2 * (oh0 + rows) - g.padTop());
        if (last <= first) {
            return;
        }
        MemorySegment.copy(x, F, (plane + (long) first * w) * Float.BYTES, stage, L, (last - first) * w);
        FloatVector zero = FloatVector.zero(S);
        FloatVector even = EVEN;
        FloatVector odd = ODD;
        boolean[] in0 = halfInside[0], in1 = halfInside[1];
        for (int ih = first; ih < last; ih++) {
            int py = (ih + g.padTop()) & 1;
            int i = (ih + g.padTop() - py) / 2 - oh0;
            int src = L + (ih - first) * w - g.padLeft();
            int d0 = py * 2 * slab.plane + i * wq;
            int d1 = d0 + slab.plane;
            for (int j = 0; j < wq; j += L) {
                FloatVector a = FloatVector.fromArray(S, stage, src + 2 * j);
                FloatVector b = FloatVector.fromArray(S, stage, src + 2 * j + L);
                VectorMask<Float> row = VectorMask.fromArray(S, halfRow, j);
                zero.blend(even.selectFrom(a, b), VectorMask.fromArray(S, in0, j)).intoArray(in, d0 + j, row);
                zero.blend(odd.selectFrom(a, b), VectorMask.fromArray(S, in1, j)).intoArray(in, d1 + j, row);
            }
        }
    }

    /** Copies the weights of output channels [o0, o1) into {@code wv} from 0, kh * kw floats each. */
    void weights(MemorySegment w, int o0, int o1, float[] wv) {
        MemorySegment.copy(w, F, (long) o0 * taps * Float.BYTES, wv, 0, (o1 - o0) * taps);
    }

    /** Floats of kh * kw weights. */
    int taps() {
        return taps;
    }

    /**
     * One output channel, rows [oh0, oh1), from the loaded input channel into {@code dst} from
     * {@code at}, rows OW apart: bias, taps (their weights in {@code wv} from {@code wAt}, see
     * {@link #weights}), then ReLU if the op has it. Up to a vector past the band's last output
     * may be overwritten. {@code tile} is scratch ({@link #tileLength()}).
     */
    void compute(float[] in, float[] wv, int wAt, float bias, int oh0, int oh1, float[] dst, int at, float[] tile) {
        int rows = oh1 - oh0;
        if (compact) {
            int end = Math.ceilDiv(rows * g.w(), L) * L;
            if (taps == 9 && g.kw() == 3) {
                compact9(in, bias, end, dst, at, wv, wAt);
            } else {
                compactAny(in, bias, end, dst, at, wv, wAt);
            }
            return;
        }
        int end = Math.ceilDiv(slab.positions(rows), L) * L;
        if (taps == 9) {
            slab9(in, bias, end, tile, wv, wAt);
        } else {
            slabAny(in, bias, end, tile, wv, wAt);
        }
        compactRows(tile, rows, dst, at);
    }

    /**
     * As {@link #compute} for the whole plane (the channel loaded for rows [0, OH)), into
     * {@code y} from element {@code at} (NCHW) by way of {@code plane} ({@link #planeLength()}):
     * one bulk copy into native memory costs less than a vector store into it per row.
     */
    void store(float[] in, float[] wv, int wAt, float bias, MemorySegment y, long at, float[] tile, float[] plane) {
        compute(in, wv, wAt, bias, 0, g.oh(), plane, 0, tile);
        MemorySegment.copy(plane, 0, y, F, at * Float.BYTES, g.oh() * g.ow());
    }

    /** Slab rows (pitch wq) to rows OW apart; a row's last vector overlaps the one before, or runs into the next row. */
    private void compactRows(float[] tile, int rows, float[] dst, int at) {
        int ow = g.ow();
        int wq = slab.wq;
        if (ow >= L) {
            int last = ow - L;
            for (int i = 0; i < rows; i++) {
                int t = i * wq;
                int d = at + i * ow;
                for (int j = 0; j < last; j += L) {
                    FloatVector.fromArray(S, tile, t + j).intoArray(dst, d + j);
                }
                FloatVector.fromArray(S, tile, t + last).intoArray(dst, d + last);
            }
        } else {
            // Each row runs into the next, written after it; the last runs into the caller's slack.
            for (int i = 0; i < rows; i++) {
                FloatVector.fromArray(S, tile, i * wq).intoArray(dst, at + i * ow);
            }
        }
    }

    private static float[] lanes(int first) {
        float[] a = new float[L];
        for (int i = 0; i < L; i++) {
            a[i] = 2 * i + first;
        }
        return a;
    }

    private FloatVector finish(FloatVector a) {
        return relu ? a.max(0f) : a;
    }

    /** Compact layout, 3x3: per tap column its three rows, then the columns added where they read inside the image. */
    private void compact9(float[] x, float bias, int end, float[] dst, int at, float[] wv, int wAt) {
        FloatVector w0 = FloatVector.broadcast(S, wv[wAt + 0]), w1 = FloatVector.broadcast(S, wv[wAt + 1]);
        FloatVector w2 = FloatVector.broadcast(S, wv[wAt + 2]), w3 = FloatVector.broadcast(S, wv[wAt + 3]);
        FloatVector w4 = FloatVector.broadcast(S, wv[wAt + 4]), w5 = FloatVector.broadcast(S, wv[wAt + 5]);
        FloatVector w6 = FloatVector.broadcast(S, wv[wAt + 6]), w7 = FloatVector.broadcast(S, wv[wAt + 7]);
        FloatVector w8 = FloatVector.broadcast(S, wv[wAt + 8]);
        int t0 = tap[0], t1 = tap[1], t2 = tap[2], t3 = tap[3], t4 = tap[4], t5 = tap[5], t6 = tap[6], t7 = tap[7];
        int t8 = tap[8];
        boolean[] m0 = inside[0], m1 = inside[1], m2 = inside[2];
        FloatVector b = FloatVector.broadcast(S, bias);
        for (int q = 0; q < end; q += L) {
            FloatVector c0 = FloatVector.fromArray(S, x, q + t0).mul(w0);
            FloatVector c1 = FloatVector.fromArray(S, x, q + t1).mul(w1);
            FloatVector c2 = FloatVector.fromArray(S, x, q + t2).mul(w2);
            c0 = FloatVector.fromArray(S, x, q + t3).fma(w3, c0);
            c1 = FloatVector.fromArray(S, x, q + t4).fma(w4, c1);
            c2 = FloatVector.fromArray(S, x, q + t5).fma(w5, c2);
            c0 = FloatVector.fromArray(S, x, q + t6).fma(w6, c0);
            c1 = FloatVector.fromArray(S, x, q + t7).fma(w7, c1);
            c2 = FloatVector.fromArray(S, x, q + t8).fma(w8, c2);
            FloatVector a = m1 == null ? b.add(c1) : b.add(c1, VectorMask.fromArray(S, m1, q));
            a = m0 == null ? a.add(c0) : a.add(c0, VectorMask.fromArray(S, m0, q));
            a = m2 == null ? a.add(c2) : a.add(c2, VectorMask.fromArray(S, m2, q));
            finish(a).intoArray(dst, at + q);
        }
    }

    /** Compact layout, any kernel: column by column. */
    private void compactAny(float[] x, float bias, int end, float[] dst, int at, float[] wv, int wAt) {
        int kh = g.kh();
        int kw = g.kw();
        FloatVector b = FloatVector.broadcast(S, bias);
        for (int q = 0; q < end; q += L) {
            FloatVector a = b;
            for (int s = 0; s < kw; s++) {
                FloatVector c = FloatVector.zero(S);
                for (int r = 0; r < kh; r++) {
                    int t = r * kw + s;
                    c = FloatVector.fromArray(S, x, q + tap[t]).fma(FloatVector.broadcast(S, wv[wAt + t]), c);
                }
                boolean[] m = inside[s];
                a = m == null ? a.add(c) : a.add(c, VectorMask.fromArray(S, m, q));
            }
            finish(a).intoArray(dst, at + q);
        }
    }

    /** Slab layout, any kernel: four vectors of positions at a time, the weights broadcast as they are used. */
    private void slabAny(float[] x, float bias, int end, float[] tile, float[] wv, int wAt) {
        int q = 0;
        FloatVector b = FloatVector.broadcast(S, bias);
        for (; q + 4 * L <= end; q += 4 * L) {
            FloatVector a0 = b, a1 = b, a2 = b, a3 = b;
            for (int t = 0; t < taps; t++) {
                FloatVector v = FloatVector.broadcast(S, wv[wAt + t]);
                int xo = tap[t] + q;
                a0 = FloatVector.fromArray(S, x, xo).fma(v, a0);
                a1 = FloatVector.fromArray(S, x, xo + L).fma(v, a1);
                a2 = FloatVector.fromArray(S, x, xo + 2 * L).fma(v, a2);
                a3 = FloatVector.fromArray(S, x, xo + 3 * L).fma(v, a3);
            }
            finish(a0).intoArray(tile, q);
            finish(a1).intoArray(tile, q + L);
            finish(a2).intoArray(tile, q + 2 * L);
            finish(a3).intoArray(tile, q + 3 * L);
        }
        for (; q < end; q += L) {
            FloatVector a = b;
            for (int t = 0; t < taps; t++) {
                a = FloatVector.fromArray(S, x, tap[t] + q).fma(FloatVector.broadcast(S, wv[wAt + t]), a);
            }
            finish(a).intoArray(tile, q);
        }
    }

    /** Slab layout, 3x3: the nine weights in registers, two vectors of positions at a time in four chains. */
    private void slab9(float[] x, float bias, int end, float[] tile, float[] wv, int wAt) {
        FloatVector w0 = FloatVector.broadcast(S, wv[wAt + 0]), w1 = FloatVector.broadcast(S, wv[wAt + 1]);
        FloatVector w2 = FloatVector.broadcast(S, wv[wAt + 2]), w3 = FloatVector.broadcast(S, wv[wAt + 3]);
        FloatVector w4 = FloatVector.broadcast(S, wv[wAt + 4]), w5 = FloatVector.broadcast(S, wv[wAt + 5]);
        FloatVector w6 = FloatVector.broadcast(S, wv[wAt + 6]), w7 = FloatVector.broadcast(S, wv[wAt + 7]);
        FloatVector w8 = FloatVector.broadcast(S, wv[wAt + 8]);
        int t0 = tap[0], t1 = tap[1], t2 = tap[2], t3 = tap[3], t4 = tap[4], t5 = tap[5], t6 = tap[6], t7 = tap[7];
        int t8 = tap[8];
        FloatVector b = FloatVector.broadcast(S, bias);
        int q = 0;
        for (; q + 2 * L <= end; q += 2 * L) {
            int p = q + L;
            FloatVector a0 = FloatVector.fromArray(S, x, q + t0).fma(w0, b);
            FloatVector a1 = FloatVector.fromArray(S, x, p + t0).fma(w0, b);
            FloatVector c0 = FloatVector.fromArray(S, x, q + t1).mul(w1);
            FloatVector c1 = FloatVector.fromArray(S, x, p + t1).mul(w1);
            a0 = FloatVector.fromArray(S, x, q + t2).fma(w2, a0);
            a1 = FloatVector.fromArray(S, x, p + t2).fma(w2, a1);
            c0 = FloatVector.fromArray(S, x, q + t3).fma(w3, c0);
            c1 = FloatVector.fromArray(S, x, p + t3).fma(w3, c1);
            a0 = FloatVector.fromArray(S, x, q + t4).fma(w4, a0);
            a1 = FloatVector.fromArray(S, x, p + t4).fma(w4, a1);
            c0 = FloatVector.fromArray(S, x, q + t5).fma(w5, c0);
            c1 = FloatVector.fromArray(S, x, p + t5).fma(w5, c1);
            a0 = FloatVector.fromArray(S, x, q + t6).fma(w6, a0);
            a1 = FloatVector.fromArray(S, x, p + t6).fma(w6, a1);
            c0 = FloatVector.fromArray(S, x, q + t7).fma(w7, c0);
            c1 = FloatVector.fromArray(S, x, p + t7).fma(w7, c1);
            a0 = FloatVector.fromArray(S, x, q + t8).fma(w8, a0);
            a1 = FloatVector.fromArray(S, x, p + t8).fma(w8, a1);
            finish(a0.add(c0)).intoArray(tile, q);
            finish(a1.add(c1)).intoArray(tile, p);
        }
        if (q < end) {
            FloatVector a = FloatVector.fromArray(S, x, q + t0).fma(w0, b);
            FloatVector c = FloatVector.fromArray(S, x, q + t1).mul(w1);
            a = FloatVector.fromArray(S, x, q + t2).fma(w2, a);
            c = FloatVector.fromArray(S, x, q + t3).fma(w3, c);
            a = FloatVector.fromArray(S, x, q + t4).fma(w4, a);
            c = FloatVector.fromArray(S, x, q + t5).fma(w5, c);
            a = FloatVector.fromArray(S, x, q + t6).fma(w6, a);
            c = FloatVector.fromArray(S, x, q + t7).fma(w7, c);
            a = FloatVector.fromArray(S, x, q + t8).fma(w8, a);
            finish(a.add(c)).intoArray(tile, q);
        }
    }
}
