package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Depthwise convolution (groups = input channels, any channel multiplier, stride, dilation and
 * padding) as vectorised row loops, one input channel at a time ({@link #load}), then each of
 * its output channels ({@link #compute}), written as compact rows (OW apart). The channel is
 * laid out as a one-channel {@link PhaseSlab}, where each tap is a contiguous run of flattened
 * positions; four vectors of positions are summed at a time (four accumulation chains hide the
 * FMA latency) into a tile, from which the valid positions are packed. (Masked loads straight
 * from the unpadded rows, tried for stride 1 to save the padded copy, ran twice as slow.)
 */
final class DepthwiseRows {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final Conv2d.Geometry g;
    private final boolean relu;
    private final int taps;
    private final PhaseSlab slab;
    private final int[] tap;

    DepthwiseRows(Conv2d.Geometry g, int rowsMax) {
        this.g = g;
        this.relu = g.activation() == Activation.RELU;
        this.taps = g.kh() * g.kw();
        this.slab = new PhaseSlab(g, rowsMax);
        if ((long) rowsMax * slab.wq + L > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("cpu conv2d: depthwise band too large for heap arrays");
        }
        this.tap = new int[taps];
        for (int r = 0; r < g.kh(); r++) {
            for (int s = 0; s < g.kw(); s++) {
                tap[r * g.kw() + s] = slab.tap(0, r, s);
            }
        }
    }

    /** Floats of the slab {@link #load} fills. */
    int inputLength() {
        return slab.length(1);
    }

    /** Floats of the staging buffer {@link #load} needs. */
    int stageLength() {
        return slab.stageLength();
    }

    /** Floats of the tile {@link #compute} needs: a band's positions, in whole vectors. */
    int tileLength() {
        return Math.ceilDiv(slab.positions(slab.rowsMax), L) * L;
    }

    /** Output channels per input channel. */
    int multiplier() {
        return g.oc() / g.c();
    }

    /** Lays out input channel c of image n for output rows [oh0, oh1) into {@code in} ({@link #inputLength()}). */
    void load(MemorySegment x, int n, int c, int oh0, int oh1, float[] in, float[] stage) {
        slab.fill(x, ((long) n * g.c() + c) * g.h() * g.w(), 1, oh0, oh1, in, 0, stage);
    }

    /**
     * Output channel o, rows [oh0, oh1), from the loaded input channel into {@code dst} from
     * {@code at}, rows OW apart: bias, taps, then ReLU if the op has it. {@code tile} and
     * {@code wv} are scratch ({@link #tileLength()} and kh * kw floats).
     */
    void compute(float[] in, MemorySegment w, float bias, int o, int oh0, int oh1, float[] dst, int at, float[] tile,
            float[] wv) {
        MemorySegment.copy(w, F, (long) o * taps * Float.BYTES, wv, 0, taps);
        positions(in, bias, oh1 - oh0, tile, wv);
        int ow = g.ow();
        for (int i = 0; i < oh1 - oh0; i++) {
            System.arraycopy(tile, i * slab.wq, dst, at + i * ow, ow);
        }
    }

    /** Flattened slab positions, four vectors at a time, into the tile. */
    private void positions(float[] x, float bias, int rows, float[] tile, float[] wv) {
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
}
