package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Depthwise convolution (groups = input channels, any channel multiplier, stride, dilation and
 * padding) as vectorised row loops: an input channel's rows are laid out as a one-channel
 * {@link PhaseSlab}, then each of its output channels is, for every 16 flattened output
 * positions, the sum over the taps of a weight times a contiguous load, four vectors at a time
 * so that four accumulation chains hide the FMA latency. Results go to a per-thread tile of
 * slab positions, from which the valid ones are copied out row by row.
 */
final class DepthwiseRows {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final Conv2d.Geometry g;
    final PhaseSlab slab;
    private final int taps;
    private final int[] tap;
    private final boolean relu;

    DepthwiseRows(Conv2d.Geometry g, int rowsMax) {
        this.g = g;
        this.slab = new PhaseSlab(g, rowsMax);
        this.taps = g.kh() * g.kw();
        this.tap = new int[taps];
        for (int r = 0; r < g.kh(); r++) {
            for (int s = 0; s < g.kw(); s++) {
                tap[r * g.kw() + s] = slab.tap(0, r, s);
            }
        }
        this.relu = g.activation() == Activation.RELU;
    }

    /** Floats of the one-channel slab. */
    int slabLength() {
        return slab.length(1);
    }

    /** Floats of the tile: a band's positions, rounded up to whole vectors. */
    int tileLength() {
        return Math.ceilDiv(slab.positions(slab.rowsMax), L) * L;
    }

    /** Output channels per input channel. */
    int multiplier() {
        return g.oc() / g.c();
    }

    /** Floats of the staging buffer of {@link #fill}. */
    int stageLength() {
        return slab.stageLength();
    }

    /** Lays out input channel c of image n for output rows [oh0, oh1). */
    void fill(MemorySegment x, int n, int c, int oh0, int oh1, float[] slabArr, float[] stage) {
        slab.fill(x, ((long) n * g.c() + c) * g.h() * g.w(), 1, oh0, oh1, slabArr, 0, stage);
    }

    /**
     * Output channel o for {@code rows} output rows from a filled slab into {@code tile}
     * (positions of pitch {@link PhaseSlab#wq}): bias, taps, then ReLU if the op has it.
     * {@code wv} receives the channel's taps (kh * kw floats).
     */
    void compute(float[] x, MemorySegment w, float bias, int o, int rows, float[] tile, float[] wv) {
        MemorySegment.copy(w, F, (long) o * taps * Float.BYTES, wv, 0, taps);
        int end = Math.ceilDiv(slab.positions(rows), L) * L;
        int q = 0;
        FloatVector b = FloatVector.broadcast(S, bias);
        for (; q + 4 * L <= end; q += 4 * L) {
            FloatVector a0 = b, a1 = b, a2 = b, a3 = b;
            for (int t = 0; t < taps; t++) {
                FloatVector v = FloatVector.broadcast(S, wv[t]);
                int xo = tap[t] + q;
                a0 = FloatVector.fromArray(S, x, xo).fma(v, a0);
                a1 = FloatVector.fromArray(S, x, xo + L).fma(v, a1);
                a2 = FloatVector.fromArray(S, x, xo + 2 * L).fma(v, a2);
                a3 = FloatVector.fromArray(S, x, xo + 3 * L).fma(v, a3);
            }
            if (relu) {
                a0 = a0.max(0f);
                a1 = a1.max(0f);
                a2 = a2.max(0f);
                a3 = a3.max(0f);
            }
            a0.intoArray(tile, q);
            a1.intoArray(tile, q + L);
            a2.intoArray(tile, q + 2 * L);
            a3.intoArray(tile, q + 3 * L);
        }
        for (; q < end; q += L) {
            FloatVector a = b;
            for (int t = 0; t < taps; t++) {
                a = FloatVector.fromArray(S, x, tap[t] + q).fma(FloatVector.broadcast(S, wv[t]), a);
            }
            (relu ? a.max(0f) : a).intoArray(tile, q);
        }
    }

    /**
     * Copies the valid positions of {@code rows} rows of the tile to y, output channel o of image
     * n, from row oh0: packed together in the tile first (rows OW apart), then in one piece.
     */
    void store(float[] tile, MemorySegment y, int n, int o, int oh0, int rows) {
        int ow = g.ow();
        store(tile, tile, 0, rows);
        MemorySegment.copy(tile, 0, y, F, (((long) n * g.oc() + o) * g.oh() + oh0) * ow * Float.BYTES, rows * ow);
    }

    /** Copies the valid positions of {@code rows} rows of the tile into {@code dst} from {@code at}, rows OW apart. */
    void store(float[] tile, float[] dst, int at, int rows) {
        int ow = g.ow();
        for (int i = 0; i < rows; i++) {
            System.arraycopy(tile, i * slab.wq, dst, at + i * ow, ow);
        }
    }
}
