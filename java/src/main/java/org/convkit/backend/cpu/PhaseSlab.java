package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import org.convkit.ops.Conv2d;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The input that a band of output rows reads, zero-padded and split by stride phase, so that
 * every tap of a strided, dilated, padded convolution reads a contiguous run of floats: the
 * layout of the spatial paths ({@link SpatialGemm}, {@link DepthwiseRows}).
 *
 * <p>Output (oh, ow) reads, at tap (r, s), padded input row {@code oh*sh + r*dh} and column
 * {@code ow*sw + s*dw}. Writing {@code r*dh = oy*sh + py} and {@code s*dw = ox*sw + px} (py &lt; sh,
 * px &lt; sw), that is element (oh + oy, ow + ox) of phase plane (py, px): the plane of the padded
 * rows congruent to py and columns congruent to px, modulo the strides. Each plane is stored
 * with pitch {@code wq = OW + max ox}; then the outputs at flattened position
 * {@code q = (oh - oh0) * wq + ow} read tap (r, s) at {@code q + tap(c, r, s)}, whatever the
 * stride, dilation or padding, so 16 consecutive positions read 16 consecutive floats. The
 * positions with {@code ow >= OW} are computed and thrown away: {@code (wq - OW) / wq} of the
 * work, the price of contiguity. Only the phases some tap uses are stored (stride 2 with
 * dilation 2 uses one); a stride-1 slab is just the padded input, one plane per channel.
 *
 * <p>A slab holds {@code rowsMax} output rows' worth of every plane, so tap offsets do not depend
 * on the band; a shorter band leaves the plane's last rows stale, read only by discarded
 * positions.
 */
final class PhaseSlab {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Even lanes of two vectors (indices past the first select from the second). */
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(S, i -> 2 * i);
    /** The even and the odd lanes of two vectors, as indices for {@code selectFrom}. */
    private static final FloatVector EVEN_LANES = FloatVector.fromArray(S, lanes(0), 0);
    private static final FloatVector ODD_LANES = FloatVector.fromArray(S, lanes(1), 0);

    private final int h;
    private final int w;
    private final int sh;
    private final int sw;
    private final int padTop;
    private final int padLeft;
    private final int ow;
    private final int[] rowPhases;
    private final int[] colPhases;
    private final int[] tapRow;
    private final int[] tapCol;
    private final int maxOy;
    /** Plane pitch: OW plus the largest column offset of a tap. */
    final int wq;
    /** Output rows per band at most. */
    final int rowsMax;
    /** Floats per plane. */
    final int plane;
    /** Floats per input channel: one plane per phase used. */
    final int channelStride;

    PhaseSlab(Conv2d.Geometry g, int rowsMax) {
        this.h = g.h();
        this.w = g.w();
        this.sh = g.sh();
        this.sw = g.sw();
        this.padTop = g.padTop();
        this.padLeft = g.padLeft();
        this.ow = g.ow();
        this.rowsMax = rowsMax;
        this.rowPhases = usedPhases(g.kh(), g.dh(), sh);
        this.colPhases = usedPhases(g.kw(), g.dw(), sw);
        this.maxOy = (g.kh() - 1) * g.dh() / sh;
        int maxOx = (g.kw() - 1) * g.dw() / sw;
        this.wq = ow + maxOx;
        long planeLong = (long) (rowsMax + maxOy) * wq;
        long stride = planeLong * rowPhases.length * colPhases.length;
        if (stride > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("cpu conv2d: input band too large for a heap slab");
        }
        this.plane = (int) planeLong;
        this.channelStride = (int) stride;
        // Offset of tap row r (its phase plane row block and row) and tap column s, within a channel.
        this.tapRow = new int[g.kh()];
        for (int r = 0; r < g.kh(); r++) {
            int a = r * g.dh();
            tapRow[r] = indexOf(rowPhases, a % sh) * colPhases.length * plane + (a / sh) * wq;
        }
        this.tapCol = new int[g.kw()];
        for (int s = 0; s < g.kw(); s++) {
            int b = s * g.dw();
            tapCol[s] = indexOf(colPhases, b % sw) * plane + b / sw;
        }
    }

    /** Phases (residues modulo the stride) that the taps 0..k-1 at dilation d fall on, ascending. */
    private static int[] usedPhases(int k, int d, int stride) {
        boolean[] used = new boolean[stride];
        for (int t = 0; t < k; t++) {
            used[t * d % stride] = true;
        }
        int[] out = new int[stride];
        int n = 0;
        for (int p = 0; p < stride; p++) {
            if (used[p]) {
                out[n++] = p;
            }
        }
        return Arrays.copyOf(out, n);
    }

    private static float[] lanes(int first) {
        float[] a = new float[L];
        for (int i = 0; i < L; i++) {
            a[i] = first + 2 * i;
        }
        return a;
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        throw new IllegalStateException("phase " + v + " not in " + Arrays.toString(a));
    }

    /** Floats of one channel's planes that the taps read for {@code positions} consecutive positions. */
    long footprint(int positions) {
        return (long) rowPhases.length * colPhases.length * (positions + (long) maxOy * wq + wq - ow);
    }

    /** Offset of tap (r, s) of channel c from the slab's start. */
    int tap(int c, int r, int s) {
        return c * channelStride + tapRow[r] + tapCol[s];
    }

    /**
     * Floats a slab of {@code channels} channels needs: the planes, plus what the last vector of
     * a range ending in mid-row reads past them (a row's worth and a vector, at most), which also
     * covers the vector that {@link #fill} writes past the last row.
     */
    int length(int channels) {
        long length = (long) channels * channelStride + wq + 4 * L;
        if (length > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("cpu conv2d: input slab of " + length + " floats too large for the heap");
        }
        return (int) length;
    }

    /** Flattened positions of {@code rows} output rows (the last row stops at OW). */
    int positions(int rows) {
        return (rows - 1) * wq + ow;
    }

    /** Floats of the staging buffer {@link #fill} needs: the input rows one band reads, and a vector's slack. */
    int stageLength() {
        return ((rowsMax - 1 + maxOy) * sh + rowPhases[rowPhases.length - 1] + 1) * w + L;
    }

    /**
     * Fills the planes of input channels [0, channels), the first at element {@code xPlane} of
     * {@code x} (NCHW, channel planes h * w apart), for output rows [oh0, oh1), into
     * {@code dst} from {@code dstBase}. Each channel's rows are first copied in one piece into
     * {@code stage} ({@link #stageLength()} floats): a copy out of native memory has a fixed
     * cost that, paid per row, took more time than the copying.
     */
    void fill(MemorySegment x, long xPlane, int channels, int oh0, int oh1, float[] dst, int dstBase, float[] stage) {
        int rows = oh1 - oh0 + maxOy;
        // Input rows any phase reads, clamped to the image.
        int first = Math.max(0, oh0 * sh + rowPhases[0] - padTop);
        int last = Math.min(h - 1, (oh0 + rows - 1) * sh + rowPhases[rowPhases.length - 1] - padTop);
        boolean direct = sw == 1 && padLeft == 0 && wq == w;
        for (int c = 0; c < channels; c++) {
            long src = xPlane + (long) c * h * w;
            if (direct && rowPhases.length == 1 && oh0 * sh + rowPhases[0] - padTop == first
                    && first + rows - 1 == last) {
                // Stride 1, no padding in the way, every row inside: the plane is the input rows as they are.
                MemorySegment.copy(x, F, (src + (long) first * w) * Float.BYTES, dst, dstBase + c * channelStride,
                        rows * w);
                continue;
            }
            if (last >= first) {
                MemorySegment.copy(x, F, (src + (long) first * w) * Float.BYTES, stage, 0, (last - first + 1) * w);
            }
            for (int a = 0; a < rowPhases.length; a++) {
                int py = rowPhases[a];
                int planeBase = dstBase + c * channelStride + a * colPhases.length * plane;
                for (int i = 0; i < rows; i++) {
                    int ih = (oh0 + i) * sh + py - padTop;
                    int d = planeBase + i * wq;
                    if (ih < 0 || ih >= h) {
                        for (int b = 0; b < colPhases.length; b++) {
                            Arrays.fill(dst, d + b * plane, d + b * plane + wq, 0f);
                        }
                    } else if (direct) {
                        System.arraycopy(stage, (ih - first) * w, dst, d, w);
                    } else if (sw == 1) {
                        copyRow(stage, (ih - first) * w, dst, d);
                    } else if (sw == 2 && colPhases.length == 2) {
                        splitPair(stage, (ih - first) * w, dst, d);
                    } else {
                        for (int b = 0; b < colPhases.length; b++) {
                            splitRow(stage, (ih - first) * w, colPhases[b], dst, d + b * plane);
                        }
                    }
                }
            }
        }
    }

    /**
     * Stride 1: the padded row is the input row shifted by padLeft, zeros around. When the whole
     * input row fits, it is moved in whole vectors, the last one running past the row (into the
     * next row of the slab, written after this one, or the slab's slack) before the zeros on the
     * right are written: cheaper for short rows than an exact copy.
     */
    private void copyRow(float[] stage, int src, float[] dst, int d) {
        int lo = Math.min(wq, padLeft);
        int hi = Math.max(lo, Math.min(wq, w + padLeft));
        for (int j = 0; j < lo; j++) {
            dst[d + j] = 0f;
        }
        if (lo == padLeft && hi == w + padLeft) {
            for (int j = 0; j < w; j += L) {
                FloatVector.fromArray(S, stage, src + j).intoArray(dst, d + lo + j);
            }
        } else {
            System.arraycopy(stage, src + lo - padLeft, dst, d + lo, hi - lo);
        }
        for (int j = hi; j < wq; j++) {
            dst[d + j] = 0f;
        }
    }

    /**
     * Stride 2, both column phases: one pass over the input row, each pair of vectors giving a
     * vector of each phase. Input column 2i lands in phase {@code padLeft % 2} at element
     * {@code i + padLeft / 2}, column 2i + 1 in the other phase at {@code i + (padLeft + 1) / 2}.
     */
    private void splitPair(float[] stage, int src, float[] dst, int d) {
        int pe = padLeft & 1;
        int de = d + pe * plane;
        int dO = d + (1 - pe) * plane;
        int je = Math.min(wq, padLeft >> 1);
        int jo = Math.min(wq, (padLeft + 1) >> 1);
        int ne = Math.max(0, Math.min((w + 1) >> 1, wq - je));
        int no = Math.max(0, Math.min(w >> 1, wq - jo));
        Arrays.fill(dst, de, de + je, 0f);
        Arrays.fill(dst, dO, dO + jo, 0f);
        int both = Math.min(ne, no);
        int i = 0;
        // Whole vectors while both outputs take all their lanes; the second load may run past
        // the row (into the next row or the stage's slack) only for lanes never stored.
        for (; i + L <= both; i += L) {
            FloatVector a = FloatVector.fromArray(S, stage, src + 2 * i);
            FloatVector b = FloatVector.fromArray(S, stage, src + 2 * i + L);
            EVEN_LANES.selectFrom(a, b).intoArray(dst, de + je + i);
            ODD_LANES.selectFrom(a, b).intoArray(dst, dO + jo + i);
        }
        for (int e = i; e < ne; e++) {
            dst[de + je + e] = stage[src + 2 * e];
        }
        for (int o = i; o < no; o++) {
            dst[dO + jo + o] = stage[src + 2 * o + 1];
        }
        Arrays.fill(dst, de + je + ne, de + wq, 0f);
        Arrays.fill(dst, dO + jo + no, dO + wq, 0f);
    }

    /** Column phase px of the input row at {@code stage[src]}: element j is padded column j * sw + px. */
    private void splitRow(float[] stage, int src, int px, float[] dst, int d) {
        int lo = Math.min(wq, padLeft > px ? Math.ceilDiv(padLeft - px, sw) : 0);
        int hi = Math.max(lo, Math.min(wq, Math.ceilDiv(w + padLeft - px, sw)));
        for (int z = 0; z < lo; z++) {
            dst[d + z] = 0f;
        }
        int j = lo;
        int iw = src + lo * sw + px - padLeft;
        if (sw == 2) {
            // Two vectors in, their even lanes out, while both loads stay within the row.
            for (int rowEnd = src + w; j + L <= hi && iw + 2 * L <= rowEnd; j += L, iw += 2 * L) {
                FloatVector a = FloatVector.fromArray(S, stage, iw);
                a.rearrange(EVEN, FloatVector.fromArray(S, stage, iw + L)).intoArray(dst, d + j);
            }
        }
        for (; j < hi; j++, iw += sw) {
            dst[d + j] = stage[iw];
        }
        for (int z = hi; z < wq; z++) {
            dst[d + z] = 0f;
        }
    }
}
