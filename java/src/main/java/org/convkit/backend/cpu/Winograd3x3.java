package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.convkit.ops.Conv2d;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Winograd's minimal filtering F(4x4, 3x3) and F(2x2, 3x3) for 3x3 convolutions of stride 1,
 * dilation 1 and groups 1 (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
 * 2015); the tile side {@code m} is a parameter, and what follows describes m = 4 (F(2x2, 3x3)
 * below). The
 * output is cut into 4x4 tiles; each reads a 6x6 patch d of the zero-padded input, and
 * {@code Y = A^T [sum_c (G g G^T) .* (B^T d B)] A}: 36 element-wise products per tile and
 * channel pair instead of 144 multiply-adds, so the 36 "points" of the transformed domain are
 * 36 independent GEMMs of (output channels x tiles x input channels).
 *
 * <p><b>Transform points</b> 0, +-1, +-2 and infinity (Lavin's matrices): B^T and A^T hold
 * small integers (at most 5 and 8), G the fractions 1/4, 1/6, 1/12, 1/24, applied once to the
 * weights in double precision. Points +-1/2 instead of +-2 would move the large entries from
 * A^T to B^T; the error is of the same order either way. The error comes from rounding the
 * transformed input (up to 100 times the input's magnitude) and the 36 sums, which A^T
 * recombines with weights up to 8 (64 in 2-D) before they cancel; it reaches every output of a
 * tile. Measured against the double reference: about 1e-6 to 2e-6 of the largest sum of
 * |w x| in the output's tile, against about 1.5e-7 of the output's own for the GEMM paths, and
 * not growing with the channel count (CpuWinogradTest states and checks the bound, 2e-5).
 *
 * <p><b>Layout and work.</b> Weights are transformed once per buffer version into
 * {@code U[point][oc block of 64][c][64]} ({@link PackedWeights}). A work item is a range of
 * tiles of one image (tiles numbered row by row) and a group of output-channel blocks; it
 * <ol>
 *   <li>transforms its tiles' input into {@code V[point][c][tile]}: per channel and tile row,
 *       the input rows are split by column modulo 4 ({@link #split}), so that one of the
 *       6 columns of 16 consecutive tiles is one contiguous vector; {@code B^T d B} then runs
 *       on vectors over 16 tiles;</li>
 *   <li>runs the 36 GEMMs with vectors over output channels: 4 vectors (64 channels) x 6 tiles,
 *       24 accumulators, all of K in registers; per channel 4 loads and 6 broadcasts feed 24
 *       FMAs; tiles left over take 4 x 4, 4 x 2 and 4 x 1 kernels (a 14x14 image has 16 tiles);
 *       results in {@code M[point][tile][oc]};</li>
 *   <li>transforms the outputs ({@code A^T m A}, vectors over 16 output channels), adds the
 *       bias, applies ReLU and writes the 4x4 tile, clipped at the image's edges, to a stage
 *       in NCHW order, copied out in runs (one per channel where the range holds whole tile
 *       rows).</li>
 * </ol>
 * The transformed weights are 4 times the weights and are read once per run, each used once per
 * tile: for small images at batch 1 their streaming, not the multiplies, sets the time (W3b,
 * 256 -> 256 at 14x14: 9 MiB for 16 tiles), which is why {@link CpuConv2d#winograd} asks for
 * enough tiles.
 *
 * <p><b>F(2x2, 3x3)</b> (m = 2): 4x4 input tiles, 16 points (0, +-1, infinity), 16 products per
 * 2x2 outputs instead of 36: 1.78 times F(4x4, 3x3)'s multiplies per output, but transformed
 * weights 16/36 the size, and less waste on small images (49 tiles cover 14x14 exactly; 16 cover
 * 7x7 as 8x8, where F(4x4, 3x3) covers 8x8 with 4 tiles it cannot use well). Its B^T and A^T
 * hold only 0 and +-1, G adds halves: the error is that of direct summation (CpuWinogradTest:
 * 0.6e-7 to 1.4e-7 of its 2x2 tile's largest sum of |w x|). Rows are split by column modulo 2;
 * the GEMMs, work items and output staging are the same code.
 * The vector helpers are small on purpose, so that the JIT inlines them and keeps every value in
 * a register (see {@link SpatialGemm}).
 */
final class Winograd3x3 {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Floats per vector. */
    static final int L = S.length();
    /** Most points of the transformed domain (6 x 6, F(4x4, 3x3)). */
    static final int POINTS_MAX = 36;
    /** Output channels per block of the micro-kernel (4 vectors). */
    static final int OCB = 4 * L;
    /** Tiles per full micro-kernel. */
    static final int NT = 6;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /** Outputs per tile side (4 or 2), input tile side {@code alpha = m + 2}, points {@code alpha^2}. */
    final int m;
    private final int alpha;
    final int points;
    private final int c;
    private final int oc;
    private final int h;
    private final int w;
    private final int oh;
    private final int ow;
    private final int padTop;
    private final int padLeft;
    /** Tiles per image: rows, columns. */
    final int tilesH;
    final int tilesW;
    /** Output-channel blocks of {@link #OCB}. */
    final int blocks;
    /** Most tiles per range, and the pitch of V's rows (with a vector of slack: rows are written a vector at a time). */
    private final int rangeMax;
    private final int vPitch;
    /** Most output channels per group (a multiple of {@link #OCB}). */
    private final int groupMax;
    /** Pitch of one input-column phase in the row buffer. */
    private final int phasePitch;
    private final int rowLength;
    /** Most tile rows a range touches, and the input rows they read. */
    private final int tileRowsMax;
    private final int inRowsMax;

    /**
     * The transform F(m x m, 3x3) ({@code m} 4 or 2) of a convolution's geometry {@code g} (3x3,
     * stride 1, dilation 1, groups 1), in ranges of at most {@code rangeMax} tiles and groups of
     * at most {@code groupBlocks} blocks.
     */
    Winograd3x3(Conv2d.Geometry g, int m, int rangeMax, int groupBlocks) {
        if (m != 2 && m != 4) {
            throw new IllegalArgumentException("cpu conv2d winograd: tile " + m + ", not 2 or 4");
        }
        this.m = m;
        this.alpha = m + 2;
        this.points = alpha * alpha;
        this.c = g.c();
        this.oc = g.oc();
        this.h = g.h();
        this.w = g.w();
        this.oh = g.oh();
        this.ow = g.ow();
        this.padTop = g.padTop();
        this.padLeft = g.padLeft();
        this.tilesH = Math.ceilDiv(oh, m);
        this.tilesW = Math.ceilDiv(ow, m);
        this.blocks = Math.ceilDiv(oc, OCB);
        this.rangeMax = rangeMax;
        this.vPitch = Math.ceilDiv(rangeMax, L) * L + L;
        this.groupMax = groupBlocks * OCB;
        this.phasePitch = tilesW + 1 + L;
        this.rowLength = m * (tilesW + 1) + 2;
        this.tileRowsMax = Math.min(tilesH, (rangeMax + tilesW - 2) / tilesW + 1);
        this.inRowsMax = m * tileRowsMax + 2;
        long[] lengths = {packedLength(), vLength(), mLength(), stageLength(), outLength()};
        for (long length : lengths) {
            if (length > Integer.MAX_VALUE / 4) {
                throw new IllegalArgumentException("cpu conv2d winograd: " + length + " floats of scratch or weights, too large for the heap");
            }
        }
    }

    /** Tiles of m x m outputs in one image. */
    static int tiles(Conv2d.Geometry g, int m) {
        return Math.ceilDiv(g.oh(), m) * Math.ceilDiv(g.ow(), m);
    }

    /** Points of F(m x m, 3x3). */
    static int points(int m) {
        return (m + 2) * (m + 2);
    }

    /** Floats of the transformed weights. */
    int packedLength() {
        return (int) Math.min(Integer.MAX_VALUE, (long) points * blocks * OCB * c);
    }

    /*
     * V and M hold one matrix per point; each is followed by a vector of padding, so that the 36
     * vectors one tile transform stores or loads (one per point) do not fall at a power-of-two
     * stride into the same cache set (256 channels x 32 tiles is 32 KiB; without the padding the
     * input transform of W3b took 0.35 ms on one core).
     */

    /** Floats of V, the transformed input of a range. */
    int vLength() {
        return (int) Math.min(Integer.MAX_VALUE, (long) points * (c * vPitch + L));
    }

    /** Floats of M, the GEMM results of a range and group. */
    int mLength() {
        return (int) Math.min(Integer.MAX_VALUE, (long) points * (rangeMax * groupMax + L));
    }

    /**
     * Floats of the input stage: a range's input rows of one channel split by column modulo 4,
     * those rows as read, and one zero-padded row.
     */
    int stageLength() {
        return (int) Math.min(Integer.MAX_VALUE, (long) inRowsMax * ((long) m * phasePitch + w) + rowLength);
    }

    /** Floats of the output stage: a range's output rows for a group's channels. */
    int outLength() {
        return (int) Math.min(Integer.MAX_VALUE, (long) groupMax * m * tileRowsMax * ow);
    }

    /** Floats of the small transform scratch: alpha x alpha vectors, then m x m output vectors (at most 6 x 6 and 4 x 4). */
    static int tileLength() {
        return (POINTS_MAX + 16) * L;
    }

    /**
     * Transforms the weights {@code [oc][c][3][3]} at {@code src} into {@code dst}: {@code G g G^T}
     * in double precision, one rounding to float. Padding channels of the last block stay zero.
     */
    void pack(MemorySegment src, float[] dst) {
        double[] gk = new double[9];
        double[] t = new double[3 * alpha];
        double[] u = new double[alpha];
        for (int o = 0; o < oc; o++) {
            int ob = o / OCB;
            int lane = o % OCB;
            for (int ci = 0; ci < c; ci++) {
                for (int i = 0; i < 9; i++) {
                    gk[i] = src.getAtIndex(F, ((long) o * c + ci) * 9 + i);
                }
                // t = G g (alpha x 3), then G t^T row by row.
                for (int col = 0; col < 3; col++) {
                    gTimes(gk[col], gk[3 + col], gk[6 + col], u);
                    for (int i = 0; i < alpha; i++) {
                        t[i * 3 + col] = u[i];
                    }
                }
                for (int k = 0; k < alpha; k++) {
                    gTimes(t[k * 3], t[k * 3 + 1], t[k * 3 + 2], u);
                    for (int l = 0; l < alpha; l++) {
                        dst[((k * alpha + l) * blocks + ob) * OCB * c + ci * OCB + lane] = (float) u[l];
                    }
                }
            }
        }
    }

    /** {@code G (a, b, c)^T}, alpha values into u. */
    private void gTimes(double a, double b, double cc, double[] u) {
        if (m == 2) {
            u[0] = a;
            u[1] = (a + b + cc) / 2;
            u[2] = (a - b + cc) / 2;
            u[3] = cc;
            return;
        }
        u[0] = a / 4;
        u[1] = -(a + b + cc) / 6;
        u[2] = -(a - b + cc) / 6;
        u[3] = a / 24 + b / 12 + cc / 6;
        u[4] = a / 24 - b / 12 + cc / 6;
        u[5] = cc;
    }

    /**
     * One work item: tiles [t0, t1) of image n, output-channel blocks [b0, b1), into y (NCHW).
     * {@code u} from {@link #pack}; {@code bias} null or oc values; scratch arrays of
     * {@link #stageLength}, {@link #vLength}, {@link #mLength}, {@link #tileLength} and
     * {@link #outLength} floats.
     */
    void range(MemorySegment x, MemorySegment y, float[] u, float[] bias, boolean relu, int n, int t0, int t1, int b0,
            int b1, float[] stage, float[] v, float[] mm, float[] tile, float[] out) {
        int pointStride = c * vPitch + L;
        transformInput(x, n, t0, t1, 0, c, stage, v, 0, vPitch, pointStride, tile);
        multiply(u, v, 0, vPitch, pointStride, t1 - t0, b0, b1, mm);
        transformOutput(y, bias, relu, n, t0, t1, b0, b1, mm, tile, out);
    }

    /*
     * With fewer tile ranges than threads (small images at batch 1), work items split the output
     * channels instead; they would each transform the same input, so the input of the whole batch
     * is transformed first, split by channels ({@link #input}), into one V shared by all items
     * ({@link #sharedLength}), which the items then read ({@link #rangeShared}).
     */

    /** Pitch of a row of the shared V: an image's tiles and a vector of slack. */
    private int sharedPitch() {
        return Math.ceilDiv(tilesH * tilesW, L) * L + L;
    }

    /** Floats of one image's shared V. */
    private long sharedImage() {
        return (long) points * (c * sharedPitch() + L);
    }

    /** Floats of the shared V of {@code images} images. */
    long sharedLength(int images) {
        return sharedImage() * images;
    }

    /** Transforms channels [c0, c1) of image n, all its tiles, into the shared V. */
    void input(MemorySegment x, int n, int c0, int c1, float[] stage, float[] v, float[] tile) {
        int pitch = sharedPitch();
        // Tile row by tile row, in order (rows are written a vector at a time, into the next row's slots), within the stage.
        for (int ty = 0; ty < tilesH; ty++) {
            transformInput(x, n, ty * tilesW, (ty + 1) * tilesW, c0, c1, stage, v, (int) (n * sharedImage()) + ty * tilesW,
                    pitch, c * pitch + L, tile);
        }
    }

    /** As {@link #range}, the input read from the shared V that {@link #input} filled. */
    void rangeShared(MemorySegment y, float[] u, float[] bias, boolean relu, int n, int t0, int t1, int b0, int b1,
            float[] v, float[] mm, float[] tile, float[] out) {
        int pitch = sharedPitch();
        multiply(u, v, (int) (n * sharedImage()) + t0, pitch, c * pitch + L, t1 - t0, b0, b1, mm);
        transformOutput(y, bias, relu, n, t0, t1, b0, b1, mm, tile, out);
    }

    /** The GEMMs, one per point, of nt tiles (V from v[vb], rows {@code pitch} apart, points {@code pointStride}) and blocks [b0, b1) into M. */
    private void multiply(float[] u, float[] v, int vb, int pitch, int pointStride, int nt, int b0, int b1, float[] mm) {
        int ocp = (b1 - b0) * OCB;
        for (int p = 0; p < points; p++) {
            for (int ob = b0; ob < b1; ob++) {
                int ub = (p * blocks + ob) * OCB * c;
                int mb = p * (nt * ocp + L) + (ob - b0) * OCB;
                int vp = vb + p * pointStride;
                int t = 0;
                for (; t + NT <= nt; t += NT) {
                    kernel4x6(u, ub, v, vp + t, pitch, c, mm, mb + t * ocp, ocp);
                }
                if (t + 4 <= nt) {
                    kernel4x4(u, ub, v, vp + t, pitch, c, mm, mb + t * ocp, ocp);
                    t += 4;
                }
                if (t + 2 <= nt) {
                    kernel4x2(u, ub, v, vp + t, pitch, c, mm, mb + t * ocp, ocp);
                    t += 2;
                }
                if (t < nt) {
                    kernel4x1(u, ub, v, vp + t, pitch, c, mm, mb + t * ocp);
                }
            }
        }
    }

    /**
     * Transforms channels [c0, c1) of tiles [t0, t1) of image n into V: point p, channel ci, tile
     * t at {@code v[vb + p * pointStride + ci * pitch + t - t0]}.
     */
    private void transformInput(MemorySegment x, int n, int t0, int t1, int c0, int c1, float[] stage, float[] v,
            int vb, int pitch, int pointStride, float[] tile) {
        int ty0 = t0 / tilesW;
        int ty1 = (t1 - 1) / tilesW;
        int rowPitch = m * phasePitch;
        int rows = m * (ty1 - ty0) + alpha;
        int r0 = m * ty0 - padTop;
        int ra = Math.clamp(r0, 0, h);
        int rb = Math.clamp(r0 + rows, ra, h);
        int raw = inRowsMax * rowPitch;
        int padded = raw + inRowsMax * w;
        int lo = Math.min(padLeft, rowLength);
        int hi = Math.min(padLeft + w, rowLength);
        java.util.Arrays.fill(stage, padded, padded + rowLength, 0f);
        for (int ci = c0; ci < c1; ci++) {
            long plane = ((long) n * c + ci) * h * w;
            MemorySegment.copy(x, F, (plane + (long) ra * w) * Float.BYTES, stage, raw, (rb - ra) * w);
            for (int rr = 0; rr < rows; rr++) {
                int ih = r0 + rr;
                int base = rr * rowPitch;
                if (ih < ra || ih >= rb || lo >= hi) {
                    java.util.Arrays.fill(stage, base, base + rowPitch, 0f);
                } else {
                    System.arraycopy(stage, raw + (ih - ra) * w, stage, padded + lo, hi - lo);
                    split(stage, padded, base);
                }
            }
            for (int ty = ty0; ty <= ty1; ty++) {
                int a = Math.max(0, t0 - ty * tilesW);
                int b = Math.min(tilesW, t1 - ty * tilesW);
                int rowBase = m * (ty - ty0) * rowPitch;
                for (int tx = a; tx < b; tx += L) {
                    inputTiles(stage, rowBase + tx, tile, v, vb + ci * pitch + ty * tilesW + tx - t0, pointStride);
                }
            }
        }
    }

    /**
     * {@code B^T d B} of 16 consecutive tiles, their alpha x alpha inputs split by column modulo m
     * from {@code stage[from]}, into V: point p at {@code v[at + p * pointStride]}.
     */
    private void inputTiles(float[] stage, int from, float[] tile, float[] v, int at, int pointStride) {
        int rowPitch = m * phasePitch;
        if (m == 2) {
            for (int j = 0; j < 4; j++) {
                bt2(stage, from + (j & 1) * phasePitch + (j >> 1), rowPitch, tile, j * L, 4 * L);
            }
            for (int k = 0; k < 4; k++) {
                bt2(tile, k * 4 * L, L, v, k * 4 * pointStride + at, pointStride);
            }
            return;
        }
        for (int j = 0; j < 6; j++) {
            bt(stage, from + (j & 3) * phasePitch + (j >> 2), rowPitch, tile, j * L, 6 * L);
        }
        for (int k = 0; k < 6; k++) {
            bt(tile, k * 6 * L, L, v, k * 6 * pointStride + at, pointStride);
        }
    }

    /** Splits the padded row at {@code from} by column modulo m: column {@code m tx + j} to {@code to + j * phasePitch + tx}. */
    private void split(float[] stage, int from, int to) {
        int p1 = to + phasePitch;
        if (m == 2) {
            for (int tx = 0; tx <= tilesW; tx++) {
                int s = from + 2 * tx;
                stage[to + tx] = stage[s];
                stage[p1 + tx] = stage[s + 1];
            }
            return;
        }
        int p2 = p1 + phasePitch;
        int p3 = p2 + phasePitch;
        for (int tx = 0; tx <= tilesW; tx++) {
            int s = from + 4 * tx;
            stage[to + tx] = stage[s];
            stage[p1 + tx] = stage[s + 1];
            stage[p2 + tx] = stage[s + 2];
            stage[p3 + tx] = stage[s + 3];
        }
    }

    /** {@code B^T} of the 6 vectors src[s + i * ss], into dst[d + i * ds]. */
    private static void bt(float[] src, int s, int ss, float[] dst, int d, int ds) {
        FloatVector d0 = FloatVector.fromArray(S, src, s);
        FloatVector d1 = FloatVector.fromArray(S, src, s + ss);
        FloatVector d2 = FloatVector.fromArray(S, src, s + 2 * ss);
        FloatVector d3 = FloatVector.fromArray(S, src, s + 3 * ss);
        FloatVector d4 = FloatVector.fromArray(S, src, s + 4 * ss);
        FloatVector d5 = FloatVector.fromArray(S, src, s + 5 * ss);
        // r0 = 4 d0 - 5 d2 + d4; r5 = 4 d1 - 5 d3 + d5
        d0.mul(4f).add(d4).sub(d2.mul(5f)).intoArray(dst, d);
        d1.mul(4f).add(d5).sub(d3.mul(5f)).intoArray(dst, d + 5 * ds);
        // r1, r2 = (d4 - 4 d2) -+ (4 d1 - d3)
        FloatVector e = d4.sub(d2.mul(4f));
        FloatVector f = d1.mul(4f).sub(d3);
        e.sub(f).intoArray(dst, d + ds);
        e.add(f).intoArray(dst, d + 2 * ds);
        // r3, r4 = (d4 - d2) -+ 2 (d1 - d3)
        FloatVector e2 = d4.sub(d2);
        FloatVector f2 = d1.sub(d3).mul(2f);
        e2.sub(f2).intoArray(dst, d + 3 * ds);
        e2.add(f2).intoArray(dst, d + 4 * ds);
    }

    /** F(2x2, 3x3)'s {@code B^T} (points 0, +-1, infinity) of the 4 vectors src[s + i * ss], into dst[d + i * ds]. */
    private static void bt2(float[] src, int s, int ss, float[] dst, int d, int ds) {
        FloatVector d0 = FloatVector.fromArray(S, src, s);
        FloatVector d1 = FloatVector.fromArray(S, src, s + ss);
        FloatVector d2 = FloatVector.fromArray(S, src, s + 2 * ss);
        FloatVector d3 = FloatVector.fromArray(S, src, s + 3 * ss);
        d0.sub(d2).intoArray(dst, d);
        d1.add(d2).intoArray(dst, d + ds);
        d2.sub(d1).intoArray(dst, d + 2 * ds);
        d1.sub(d3).intoArray(dst, d + 3 * ds);
    }

    /** F(2x2, 3x3)'s {@code A^T} of the 4 vectors src[s + i * ss], into dst[d + i * ds], i < 2. */
    private static void at2(float[] src, int s, int ss, float[] dst, int d, int ds) {
        FloatVector m0 = FloatVector.fromArray(S, src, s);
        FloatVector m1 = FloatVector.fromArray(S, src, s + ss);
        FloatVector m2 = FloatVector.fromArray(S, src, s + 2 * ss);
        FloatVector m3 = FloatVector.fromArray(S, src, s + 3 * ss);
        m0.add(m1).add(m2).intoArray(dst, d);
        m1.sub(m2).sub(m3).intoArray(dst, d + ds);
    }

    /** {@code A^T} of the 6 vectors src[s + i * ss], into dst[d + i * ds], i < 4. */
    private static void at(float[] src, int s, int ss, float[] dst, int d, int ds) {
        FloatVector m0 = FloatVector.fromArray(S, src, s);
        FloatVector m1 = FloatVector.fromArray(S, src, s + ss);
        FloatVector m2 = FloatVector.fromArray(S, src, s + 2 * ss);
        FloatVector m3 = FloatVector.fromArray(S, src, s + 3 * ss);
        FloatVector m4 = FloatVector.fromArray(S, src, s + 4 * ss);
        FloatVector m5 = FloatVector.fromArray(S, src, s + 5 * ss);
        FloatVector sp = m1.add(m2);
        FloatVector sm = m1.sub(m2);
        FloatVector tp = m3.add(m4);
        FloatVector tm = m3.sub(m4);
        m0.add(sp).add(tp).intoArray(dst, d);
        sm.add(tm.mul(2f)).intoArray(dst, d + ds);
        sp.add(tp.mul(4f)).intoArray(dst, d + 2 * ds);
        sm.add(tm.mul(8f)).add(m5).intoArray(dst, d + 3 * ds);
    }

    private void transformOutput(MemorySegment y, float[] bias, boolean relu, int n, int t0, int t1, int b0, int b1,
            float[] mm, float[] tile, float[] out) {
        int nt = t1 - t0;
        int ocp = (b1 - b0) * OCB;
        int o0 = b0 * OCB;
        int o1 = Math.min(oc, b1 * OCB);
        int ty0 = t0 / tilesW;
        int ty1 = (t1 - 1) / tilesW;
        int rowsOut = Math.min(oh, m * ty1 + m) - m * ty0;
        int chOut = rowsOut * ow;
        int mPoint = nt * ocp + L;
        for (int t = 0; t < nt; t++) {
            int ty = (t0 + t) / tilesW;
            int tx = (t0 + t) % tilesW;
            int rows = Math.min(m, oh - m * ty);
            int cols = Math.min(m, ow - m * tx);
            for (int o = o0; o < o1; o += L) {
                outputTile(mm, t * ocp + o - o0, mPoint, tile, bias, o, relu);
                scatter(tile, Math.min(L, o1 - o), out, (o - o0) * chOut + m * (ty - ty0) * ow + m * tx, chOut, rows, cols);
            }
        }
        long plane = (long) oh * ow;
        for (int o = o0; o < o1; o++) {
            long yc = ((long) n * oc + o) * plane + (long) m * ty0 * ow;
            int sc = (o - o0) * chOut;
            int ty = ty0;
            while (ty <= ty1) {
                int a = Math.max(0, t0 - ty * tilesW);
                int b = Math.min(tilesW, t1 - ty * tilesW);
                int r0 = m * (ty - ty0);
                if (a == 0 && b == tilesW) {
                    // Whole tile rows are whole output rows, one run in y.
                    int end = ty;
                    while (end + 1 <= ty1 && t1 >= (end + 2) * tilesW) {
                        end++;
                    }
                    int r1 = Math.min(rowsOut, m * (end - ty0) + m);
                    MemorySegment.copy(out, sc + r0 * ow, y, F, (yc + (long) r0 * ow) * Float.BYTES, (r1 - r0) * ow);
                    ty = end + 1;
                } else {
                    int r1 = Math.min(rowsOut, r0 + m);
                    int c0 = m * a;
                    int c1 = Math.min(ow, m * b);
                    for (int r = r0; r < r1; r++) {
                        MemorySegment.copy(out, sc + r * ow + c0, y, F, (yc + (long) r * ow + c0) * Float.BYTES, c1 - c0);
                    }
                    ty++;
                }
            }
        }
    }

    /**
     * {@code A^T M A} of one tile for 16 output channels from o (M from mm[mb], points
     * {@code mPoint} apart), plus bias, ReLU if asked: m x m vectors at {@code tile[POINTS_MAX * L]}, row by row.
     */
    private void outputTile(float[] mm, int mb, int mPoint, float[] tile, float[] bias, int o, boolean relu) {
        int res = POINTS_MAX * L;
        if (m == 2) {
            for (int l = 0; l < 4; l++) {
                at2(mm, l * mPoint + mb, 4 * mPoint, tile, l * L, 4 * L);
            }
            for (int a = 0; a < 2; a++) {
                at2(tile, a * 4 * L, L, tile, res + a * 2 * L, L);
            }
        } else {
            for (int l = 0; l < 6; l++) {
                at(mm, l * mPoint + mb, 6 * mPoint, tile, l * L, 6 * L);
            }
            for (int a = 0; a < 4; a++) {
                at(tile, a * 6 * L, L, tile, res + a * 4 * L, L);
            }
        }
        FloatVector zero = FloatVector.zero(S);
        FloatVector bv = bias == null ? zero : FloatVector.fromArray(S, bias, o, S.indexInRange(o, oc));
        for (int q = 0; q < m * m; q++) {
            FloatVector r = FloatVector.fromArray(S, tile, res + q * L).add(bv);
            (relu ? r.max(zero) : r).intoArray(tile, res + q * L);
        }
    }

    /**
     * Lanes [0, lanes) of the tile's m x m result vectors (one output channel each) to the output
     * stage: channel {@code lane} at {@code out[base + lane * chOut]}, rows {@code ow} apart, the
     * first {@code rows} x {@code cols} of the m x m (the image's edge clips the rest).
     */
    private void scatter(float[] tile, int lanes, float[] out, int base, int chOut, int rows, int cols) {
        int res = POINTS_MAX * L;
        if (m == 2 && rows == 2 && cols == 2) {
            for (int lane = 0; lane < lanes; lane++) {
                int dst = base + lane * chOut;
                out[dst] = tile[res + lane];
                out[dst + 1] = tile[res + L + lane];
                out[dst + ow] = tile[res + 2 * L + lane];
                out[dst + ow + 1] = tile[res + 3 * L + lane];
            }
            return;
        }
        if (rows == 4 && cols == 4) {
            for (int lane = 0; lane < lanes; lane++) {
                int dst = base + lane * chOut;
                put4(tile, res + lane, out, dst);
                put4(tile, res + 4 * L + lane, out, dst + ow);
                put4(tile, res + 8 * L + lane, out, dst + 2 * ow);
                put4(tile, res + 12 * L + lane, out, dst + 3 * ow);
            }
            return;
        }
        for (int lane = 0; lane < lanes; lane++) {
            int dst = base + lane * chOut;
            for (int a = 0; a < rows; a++) {
                for (int q = 0; q < cols; q++) {
                    out[dst + a * ow + q] = tile[res + (a * m + q) * L + lane];
                }
            }
        }
    }

    /** Lane {@code at} of 4 consecutive vectors of src, to 4 consecutive floats of dst. */
    private static void put4(float[] src, int at, float[] dst, int to) {
        dst[to] = src[at];
        dst[to + 1] = src[at + L];
        dst[to + 2] = src[at + 2 * L];
        dst[to + 3] = src[at + 3 * L];
    }

    /** The GEMM of one point: 64 output channels (from u[ub]) x 6 tiles (v[vb], pitch vp) over k channels, into m[mb + j * mp]. */
    private static void kernel4x6(float[] u, int ub, float[] v, int vb, int vp, int k, float[] m, int mb, int mp) {
        FloatVector a00 = FloatVector.zero(S), a10 = a00, a20 = a00, a30 = a00;
        FloatVector a01 = a00, a11 = a00, a21 = a00, a31 = a00;
        FloatVector a02 = a00, a12 = a00, a22 = a00, a32 = a00;
        FloatVector a03 = a00, a13 = a00, a23 = a00, a33 = a00;
        FloatVector a04 = a00, a14 = a00, a24 = a00, a34 = a00;
        FloatVector a05 = a00, a15 = a00, a25 = a00, a35 = a00;
        for (int i = 0; i < k; i++, ub += OCB, vb += vp) {
            FloatVector u0 = FloatVector.fromArray(S, u, ub);
            FloatVector u1 = FloatVector.fromArray(S, u, ub + L);
            FloatVector u2 = FloatVector.fromArray(S, u, ub + 2 * L);
            FloatVector u3 = FloatVector.fromArray(S, u, ub + 3 * L);
            FloatVector x = FloatVector.broadcast(S, v[vb]);
            a00 = u0.fma(x, a00);
            a10 = u1.fma(x, a10);
            a20 = u2.fma(x, a20);
            a30 = u3.fma(x, a30);
            x = FloatVector.broadcast(S, v[vb + 1]);
            a01 = u0.fma(x, a01);
            a11 = u1.fma(x, a11);
            a21 = u2.fma(x, a21);
            a31 = u3.fma(x, a31);
            x = FloatVector.broadcast(S, v[vb + 2]);
            a02 = u0.fma(x, a02);
            a12 = u1.fma(x, a12);
            a22 = u2.fma(x, a22);
            a32 = u3.fma(x, a32);
            x = FloatVector.broadcast(S, v[vb + 3]);
            a03 = u0.fma(x, a03);
            a13 = u1.fma(x, a13);
            a23 = u2.fma(x, a23);
            a33 = u3.fma(x, a33);
            x = FloatVector.broadcast(S, v[vb + 4]);
            a04 = u0.fma(x, a04);
            a14 = u1.fma(x, a14);
            a24 = u2.fma(x, a24);
            a34 = u3.fma(x, a34);
            x = FloatVector.broadcast(S, v[vb + 5]);
            a05 = u0.fma(x, a05);
            a15 = u1.fma(x, a15);
            a25 = u2.fma(x, a25);
            a35 = u3.fma(x, a35);
        }
        a00.intoArray(m, mb);
        a10.intoArray(m, mb + L);
        a20.intoArray(m, mb + 2 * L);
        a30.intoArray(m, mb + 3 * L);
        a01.intoArray(m, mb + mp);
        a11.intoArray(m, mb + mp + L);
        a21.intoArray(m, mb + mp + 2 * L);
        a31.intoArray(m, mb + mp + 3 * L);
        a02.intoArray(m, mb + 2 * mp);
        a12.intoArray(m, mb + 2 * mp + L);
        a22.intoArray(m, mb + 2 * mp + 2 * L);
        a32.intoArray(m, mb + 2 * mp + 3 * L);
        a03.intoArray(m, mb + 3 * mp);
        a13.intoArray(m, mb + 3 * mp + L);
        a23.intoArray(m, mb + 3 * mp + 2 * L);
        a33.intoArray(m, mb + 3 * mp + 3 * L);
        a04.intoArray(m, mb + 4 * mp);
        a14.intoArray(m, mb + 4 * mp + L);
        a24.intoArray(m, mb + 4 * mp + 2 * L);
        a34.intoArray(m, mb + 4 * mp + 3 * L);
        a05.intoArray(m, mb + 5 * mp);
        a15.intoArray(m, mb + 5 * mp + L);
        a25.intoArray(m, mb + 5 * mp + 2 * L);
        a35.intoArray(m, mb + 5 * mp + 3 * L);
    }

    /** As {@link #kernel4x6} for 4 tiles. */
    private static void kernel4x4(float[] u, int ub, float[] v, int vb, int vp, int k, float[] m, int mb, int mp) {
        FloatVector a00 = FloatVector.zero(S), a10 = a00, a20 = a00, a30 = a00;
        FloatVector a01 = a00, a11 = a00, a21 = a00, a31 = a00;
        FloatVector a02 = a00, a12 = a00, a22 = a00, a32 = a00;
        FloatVector a03 = a00, a13 = a00, a23 = a00, a33 = a00;
        for (int i = 0; i < k; i++, ub += OCB, vb += vp) {
            FloatVector u0 = FloatVector.fromArray(S, u, ub);
            FloatVector u1 = FloatVector.fromArray(S, u, ub + L);
            FloatVector u2 = FloatVector.fromArray(S, u, ub + 2 * L);
            FloatVector u3 = FloatVector.fromArray(S, u, ub + 3 * L);
            FloatVector x = FloatVector.broadcast(S, v[vb]);
            a00 = u0.fma(x, a00);
            a10 = u1.fma(x, a10);
            a20 = u2.fma(x, a20);
            a30 = u3.fma(x, a30);
            x = FloatVector.broadcast(S, v[vb + 1]);
            a01 = u0.fma(x, a01);
            a11 = u1.fma(x, a11);
            a21 = u2.fma(x, a21);
            a31 = u3.fma(x, a31);
            x = FloatVector.broadcast(S, v[vb + 2]);
            a02 = u0.fma(x, a02);
            a12 = u1.fma(x, a12);
            a22 = u2.fma(x, a22);
            a32 = u3.fma(x, a32);
            x = FloatVector.broadcast(S, v[vb + 3]);
            a03 = u0.fma(x, a03);
            a13 = u1.fma(x, a13);
            a23 = u2.fma(x, a23);
            a33 = u3.fma(x, a33);
        }
        a00.intoArray(m, mb);
        a10.intoArray(m, mb + L);
        a20.intoArray(m, mb + 2 * L);
        a30.intoArray(m, mb + 3 * L);
        a01.intoArray(m, mb + mp);
        a11.intoArray(m, mb + mp + L);
        a21.intoArray(m, mb + mp + 2 * L);
        a31.intoArray(m, mb + mp + 3 * L);
        a02.intoArray(m, mb + 2 * mp);
        a12.intoArray(m, mb + 2 * mp + L);
        a22.intoArray(m, mb + 2 * mp + 2 * L);
        a32.intoArray(m, mb + 2 * mp + 3 * L);
        a03.intoArray(m, mb + 3 * mp);
        a13.intoArray(m, mb + 3 * mp + L);
        a23.intoArray(m, mb + 3 * mp + 2 * L);
        a33.intoArray(m, mb + 3 * mp + 3 * L);
    }

    /** As {@link #kernel4x6} for 2 tiles. */
    private static void kernel4x2(float[] u, int ub, float[] v, int vb, int vp, int k, float[] m, int mb, int mp) {
        FloatVector a00 = FloatVector.zero(S), a10 = a00, a20 = a00, a30 = a00;
        FloatVector a01 = a00, a11 = a00, a21 = a00, a31 = a00;
        for (int i = 0; i < k; i++, ub += OCB, vb += vp) {
            FloatVector u0 = FloatVector.fromArray(S, u, ub);
            FloatVector u1 = FloatVector.fromArray(S, u, ub + L);
            FloatVector u2 = FloatVector.fromArray(S, u, ub + 2 * L);
            FloatVector u3 = FloatVector.fromArray(S, u, ub + 3 * L);
            FloatVector x = FloatVector.broadcast(S, v[vb]);
            a00 = u0.fma(x, a00);
            a10 = u1.fma(x, a10);
            a20 = u2.fma(x, a20);
            a30 = u3.fma(x, a30);
            x = FloatVector.broadcast(S, v[vb + 1]);
            a01 = u0.fma(x, a01);
            a11 = u1.fma(x, a11);
            a21 = u2.fma(x, a21);
            a31 = u3.fma(x, a31);
        }
        a00.intoArray(m, mb);
        a10.intoArray(m, mb + L);
        a20.intoArray(m, mb + 2 * L);
        a30.intoArray(m, mb + 3 * L);
        a01.intoArray(m, mb + mp);
        a11.intoArray(m, mb + mp + L);
        a21.intoArray(m, mb + mp + 2 * L);
        a31.intoArray(m, mb + mp + 3 * L);
    }

    /** As {@link #kernel4x6} for 1 tile. */
    private static void kernel4x1(float[] u, int ub, float[] v, int vb, int vp, int k, float[] m, int mb) {
        FloatVector a00 = FloatVector.zero(S), a10 = a00, a20 = a00, a30 = a00;
        for (int i = 0; i < k; i++, ub += OCB, vb += vp) {
            FloatVector x = FloatVector.broadcast(S, v[vb]);
            a00 = FloatVector.fromArray(S, u, ub).fma(x, a00);
            a10 = FloatVector.fromArray(S, u, ub + L).fma(x, a10);
            a20 = FloatVector.fromArray(S, u, ub + 2 * L).fma(x, a20);
            a30 = FloatVector.fromArray(S, u, ub + 3 * L).fma(x, a30);
        }
        a00.intoArray(m, mb);
        a10.intoArray(m, mb + L);
        a20.intoArray(m, mb + 2 * L);
        a30.intoArray(m, mb + 3 * L);
    }
}
