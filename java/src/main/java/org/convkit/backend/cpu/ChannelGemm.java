package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The channel implicit GEMM, for small images with many channels (a 14x14 ResNet layer, a 19x19
 * Xception layer), where vectors over output positions would waste a large share of their lanes
 * on row ends: vectors run over output channels instead, and input values are broadcast.
 *
 * <p>Work comes as ranges of output pixels (row-major, so a range need not start or end a row,
 * and ranges are cut at multiples of the micro-kernel's 6 pixels). A range's input rows,
 * zero-padded, are copied into a slab of pitch {@code wp}: tap (c, r, s) of the output pixel at
 * slab offset {@code pix} is element {@code tap(c, r, s) + pix}, whatever the stride or
 * dilation. Micro-kernel: 4 vectors of output channels (64 on AVX-512) x 6 pixels, 24
 * accumulators; per k, 4 weight loads and 6 broadcasts feed 24 fused multiply-adds. K is cut into chunks of {@link #KC} so that a block's
 * weights chunk stays in the L1 cache while it is used for every pixel of the range; the
 * accumulators live in a per-range tile between chunks (initialised to the bias). The last
 * channel block is 1, 2 or 4 vectors wide (zero weights fill it); pixels left over repeat the
 * range's last pixel. The tile is then transposed into NCHW, a vector of pixels of one channel
 * at a time (a gather from the tile).
 */
final class ChannelGemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    /** Vectors of output channels in a full block. */
    static final int VB = 4;
    /** Output channels in a full block. */
    static final int BLOCK = VB * L;
    /** Pixels per micro-kernel call. */
    static final int NP = 6;
    /** K per chunk: a block's chunk of weights is BLOCK * KC floats, 32 KiB of the 48 KiB L1 (256: 3-8% slower). */
    static final int KC = 128;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final Conv2d.Geometry g;
    private final int m;
    private final int k;
    private final int blocks;
    /** Width (output channels) of the last block: L, 2L or BLOCK. */
    private final int lastWidth;
    /** Slab pitch. */
    private final int wp;
    /** Slab floats per input channel. */
    private final int plane;
    private final int pixelsMax;
    private final int[] tap;
    /** Gather offsets of one channel's consecutive pixels in a full block's tile ([pixel][BLOCK]), and in the last block's. */
    private final int[] fullGather;
    private final int[] lastGather;

    /** For ranges of at most {@code pixelsMax} pixels, which span at most {@code rowsMax} output rows. */
    ChannelGemm(Conv2d.Geometry g, int pixelsMax, int rowsMax) {
        this.g = g;
        this.m = g.oc();
        this.k = g.c() * g.kh() * g.kw();
        this.blocks = Math.ceilDiv(m, BLOCK);
        int rest = m - (blocks - 1) * BLOCK;
        this.lastWidth = rest <= L ? L : rest <= 2 * L ? 2 * L : BLOCK;
        this.pixelsMax = Math.ceilDiv(pixelsMax, NP) * NP;
        this.wp = (g.ow() - 1) * g.sw() + (g.kw() - 1) * g.dw() + 1;
        int rp = (rowsMax - 1) * g.sh() + (g.kh() - 1) * g.dh() + 1;
        long planeLong = (long) rp * wp;
        if (planeLong * g.c() > Integer.MAX_VALUE / 4 || (long) blocks * BLOCK * this.pixelsMax > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("cpu conv2d: input band too large for a heap slab");
        }
        this.plane = (int) planeLong;
        this.tap = new int[k];
        this.fullGather = new int[L];
        this.lastGather = new int[L];
        for (int i = 0; i < L; i++) {
            fullGather[i] = i * BLOCK;
            lastGather[i] = i * lastWidth;
        }
        int p = 0;
        for (int c = 0; c < g.c(); c++) {
            for (int r = 0; r < g.kh(); r++) {
                for (int s = 0; s < g.kw(); s++) {
                    tap[p++] = c * plane + r * g.dh() * wp + s * g.dw();
                }
            }
        }
    }

    /** Blocks of output channels. */
    int blocks() {
        return blocks;
    }

    /** Floats of the packed weights: whole blocks, the last possibly narrower. */
    int packedLength() {
        return ((blocks - 1) * BLOCK + lastWidth) * k;
    }

    /** Floats of a range's input slab. */
    int slabLength() {
        return g.c() * plane;
    }

    /** Pixels per range, rounded up to whole micro-kernel calls. */
    int pixelsMax() {
        return pixelsMax;
    }

    /** Floats of a range's accumulator tile. */
    int tileLength() {
        return blocks * BLOCK * pixelsMax();
    }

    private int width(int b) {
        return b == blocks - 1 ? lastWidth : BLOCK;
    }

    /** Packs W [m][k] as blocks of output channels, each [k][width], zero beyond m. */
    void pack(MemorySegment src, float[] dst) {
        float[] row = new float[k];
        Arrays.fill(dst, 0f);
        for (int o = 0; o < m; o++) {
            MemorySegment.copy(src, F, (long) o * k * Float.BYTES, row, 0, k);
            int b = o / BLOCK;
            int width = width(b);
            int base = b * BLOCK * k + o % BLOCK;
            for (int p = 0; p < k; p++) {
                dst[base + p * width] = row[p];
            }
        }
    }

    /**
     * Output pixels [p0, p1) (row-major in the output plane) of image n, output channels of
     * blocks [b0, b1) ({@link #blocks()} in all): {@code x} and {@code y}
     * the input and output segments, {@code w} packed by {@link #pack}, {@code bias} null or m
     * values; {@code slab}, {@code tile}, {@code pix} and {@code stage} per-thread scratch of
     * {@link #slabLength()}, {@link #tileLength()}, {@link #pixelsMax()} and
     * {@link #stageLength()} elements.
     */
    void range(MemorySegment x, MemorySegment y, float[] w, float[] bias, int n, int p0, int p1, int b0, int b1,
            float[] slab,
            float[] tile, int[] pix, float[] stage) {
        int ow = g.ow();
        int oh0 = p0 / ow;
        fillSlab(x, n, oh0, (p1 - 1) / ow + 1, slab, stage);
        int pixels = p1 - p0;
        int rounded = Math.ceilDiv(pixels, NP) * NP;
        for (int j = 0; j < rounded; j++) {
            int p = p0 + Math.min(j, pixels - 1);
            pix[j] = (p / ow - oh0) * g.sh() * wp + (p % ow) * g.sw();
        }
        for (int b = b0; b < b1; b++) {
            int width = width(b);
            int t = b * BLOCK * rounded;
            for (int j = 0; j < rounded; j++, t += width) {
                for (int i = 0; i < width; i++) {
                    int o = b * BLOCK + i;
                    tile[t + i] = bias == null || o >= m ? 0f : bias[o];
                }
            }
        }
        for (int k0 = 0; k0 < k; k0 += KC) {
            int k1 = Math.min(k, k0 + KC);
            for (int b = b0; b < b1; b++) {
                int width = width(b);
                int wb = b * BLOCK * k;
                int t = b * BLOCK * rounded;
                for (int j = 0; j < rounded; j += NP, t += NP * width) {
                    if (width == BLOCK) {
                        block4(slab, k0, k1, pix, j, w, wb, tile, t);
                    } else if (width == 2 * L) {
                        block2(slab, k0, k1, pix, j, w, wb, tile, t);
                    } else {
                        block1(slab, k0, k1, pix, j, w, wb, tile, t);
                    }
                }
            }
        }
        boolean relu = g.activation() == Activation.RELU;
        long plane = (long) g.oh() * ow;
        // A block's tile is [pixel][width], tens of KiB: read it a vector of pixels at a time for
        // every channel of the block, so the lines read stay in L1 across the channels.
        for (int b = b0; b < b1; b++) {
            int width = width(b);
            int[] gather = b == blocks - 1 ? lastGather : fullGather;
            int o1 = Math.min(m, b * BLOCK + width);
            int j = 0;
            for (; j <= pixels - L; j += L) {
                int t = b * BLOCK * rounded + j * width;
                for (int o = b * BLOCK; o < o1; o++, t++) {
                    FloatVector v = FloatVector.fromArray(S, tile, t, gather, 0);
                    if (relu) {
                        v = v.max(0f);
                    }
                    v.intoMemorySegment(y, (((long) n * m + o) * plane + p0 + j) * Float.BYTES, ByteOrder.nativeOrder());
                }
            }
            // The last pixels one at a time (a masked gather still checks every lane's index).
            for (int o = b * BLOCK; o < o1 && j < pixels; o++) {
                int t = b * BLOCK * rounded + j * width + o - b * BLOCK;
                long dst = ((long) n * m + o) * plane + p0;
                for (int q = j; q < pixels; q++, t += width) {
                    float v = tile[t];
                    y.setAtIndex(F, dst + q, relu && v < 0f ? 0f : v);
                }
            }
        }
    }

    /** Floats of the staging buffer {@link #range} needs: one channel's input rows of a range. */
    int stageLength() {
        return rp() * g.w();
    }

    private int rp() {
        return plane / wp;
    }

    /**
     * The zero-padded input rows that output rows [oh0, oh1) read, every channel, pitch wp. Each
     * channel's rows inside the image are one block of the input, fetched with one segment copy
     * (straight into the slab when the slab's rows are the input's, through {@code stage}
     * otherwise): a segment copy costs far more than a heap copy of one short row.
     */
    private void fillSlab(MemorySegment x, int n, int oh0, int oh1, float[] slab, float[] stage) {
        int rows = (oh1 - oh0 - 1) * g.sh() + (g.kh() - 1) * g.dh() + 1;
        int h = g.h();
        int w = g.w();
        int pad = g.padLeft();
        int lo = Math.min(wp, pad);
        int hi = Math.max(lo, Math.min(wp, w + pad));
        int top = oh0 * g.sh() - g.padTop();
        int i0 = Math.min(rows, Math.max(0, -top));
        int i1 = Math.max(i0, Math.min(rows, h - top));
        boolean direct = lo == 0 && hi == wp && wp == w;
        for (int c = 0; c < g.c(); c++) {
            long src = (((long) n * g.c() + c) * h + top + i0) * w;
            int d = c * plane;
            Arrays.fill(slab, d, d + i0 * wp, 0f);
            Arrays.fill(slab, d + i1 * wp, d + rows * wp, 0f);
            if (i0 >= i1) {
                continue;
            }
            if (hi == lo) {
                Arrays.fill(slab, d + i0 * wp, d + i1 * wp, 0f);
                continue;
            }
            if (direct) {
                MemorySegment.copy(x, F, src * Float.BYTES, slab, d + i0 * wp, (i1 - i0) * w);
                continue;
            }
            MemorySegment.copy(x, F, src * Float.BYTES, stage, 0, (i1 - i0) * w);
            for (int i = i0; i < i1; i++) {
                int r = c * plane + i * wp;
                Arrays.fill(slab, r, r + lo, 0f);
                System.arraycopy(stage, (i - i0) * w + lo - pad, slab, r + lo, hi - lo);
                Arrays.fill(slab, r + hi, r + wp, 0f);
            }
        }
    }

    /** Taps [k0, k1) of 4 vectors of channels x pixels pix[j..j+5], accumulated into tile[t...] ([pixel][4L]). */
    private void block4(float[] x, int k0, int k1, int[] pix, int j, float[] w, int wb, float[] tile, int t) {
        final int q0 = pix[j], q1 = pix[j + 1], q2 = pix[j + 2], q3 = pix[j + 3], q4 = pix[j + 4], q5 = pix[j + 5];
        final int[] tp = tap;
        FloatVector a00 = FloatVector.fromArray(S, tile, t), a10 = FloatVector.fromArray(S, tile, t + L);
        FloatVector a20 = FloatVector.fromArray(S, tile, t + 2 * L), a30 = FloatVector.fromArray(S, tile, t + 3 * L);
        FloatVector a01 = FloatVector.fromArray(S, tile, t + BLOCK), a11 = FloatVector.fromArray(S, tile, t + BLOCK + L);
        FloatVector a21 = FloatVector.fromArray(S, tile, t + BLOCK + 2 * L);
        FloatVector a31 = FloatVector.fromArray(S, tile, t + BLOCK + 3 * L);
        FloatVector a02 = FloatVector.fromArray(S, tile, t + 2 * BLOCK);
        FloatVector a12 = FloatVector.fromArray(S, tile, t + 2 * BLOCK + L);
        FloatVector a22 = FloatVector.fromArray(S, tile, t + 2 * BLOCK + 2 * L);
        FloatVector a32 = FloatVector.fromArray(S, tile, t + 2 * BLOCK + 3 * L);
        FloatVector a03 = FloatVector.fromArray(S, tile, t + 3 * BLOCK);
        FloatVector a13 = FloatVector.fromArray(S, tile, t + 3 * BLOCK + L);
        FloatVector a23 = FloatVector.fromArray(S, tile, t + 3 * BLOCK + 2 * L);
        FloatVector a33 = FloatVector.fromArray(S, tile, t + 3 * BLOCK + 3 * L);
        FloatVector a04 = FloatVector.fromArray(S, tile, t + 4 * BLOCK);
        FloatVector a14 = FloatVector.fromArray(S, tile, t + 4 * BLOCK + L);
        FloatVector a24 = FloatVector.fromArray(S, tile, t + 4 * BLOCK + 2 * L);
        FloatVector a34 = FloatVector.fromArray(S, tile, t + 4 * BLOCK + 3 * L);
        FloatVector a05 = FloatVector.fromArray(S, tile, t + 5 * BLOCK);
        FloatVector a15 = FloatVector.fromArray(S, tile, t + 5 * BLOCK + L);
        FloatVector a25 = FloatVector.fromArray(S, tile, t + 5 * BLOCK + 2 * L);
        FloatVector a35 = FloatVector.fromArray(S, tile, t + 5 * BLOCK + 3 * L);
        for (int p = k0, wo = wb + k0 * BLOCK; p < k1; p++, wo += BLOCK) {
            int xo = tp[p];
            FloatVector w0 = FloatVector.fromArray(S, w, wo);
            FloatVector w1 = FloatVector.fromArray(S, w, wo + L);
            FloatVector w2 = FloatVector.fromArray(S, w, wo + 2 * L);
            FloatVector w3 = FloatVector.fromArray(S, w, wo + 3 * L);
            FloatVector v = FloatVector.broadcast(S, x[xo + q0]);
            a00 = w0.fma(v, a00);
            a10 = w1.fma(v, a10);
            a20 = w2.fma(v, a20);
            a30 = w3.fma(v, a30);
            v = FloatVector.broadcast(S, x[xo + q1]);
            a01 = w0.fma(v, a01);
            a11 = w1.fma(v, a11);
            a21 = w2.fma(v, a21);
            a31 = w3.fma(v, a31);
            v = FloatVector.broadcast(S, x[xo + q2]);
            a02 = w0.fma(v, a02);
            a12 = w1.fma(v, a12);
            a22 = w2.fma(v, a22);
            a32 = w3.fma(v, a32);
            v = FloatVector.broadcast(S, x[xo + q3]);
            a03 = w0.fma(v, a03);
            a13 = w1.fma(v, a13);
            a23 = w2.fma(v, a23);
            a33 = w3.fma(v, a33);
            v = FloatVector.broadcast(S, x[xo + q4]);
            a04 = w0.fma(v, a04);
            a14 = w1.fma(v, a14);
            a24 = w2.fma(v, a24);
            a34 = w3.fma(v, a34);
            v = FloatVector.broadcast(S, x[xo + q5]);
            a05 = w0.fma(v, a05);
            a15 = w1.fma(v, a15);
            a25 = w2.fma(v, a25);
            a35 = w3.fma(v, a35);
        }
        a00.intoArray(tile, t);
        a10.intoArray(tile, t + L);
        a20.intoArray(tile, t + 2 * L);
        a30.intoArray(tile, t + 3 * L);
        a01.intoArray(tile, t + BLOCK);
        a11.intoArray(tile, t + BLOCK + L);
        a21.intoArray(tile, t + BLOCK + 2 * L);
        a31.intoArray(tile, t + BLOCK + 3 * L);
        a02.intoArray(tile, t + 2 * BLOCK);
        a12.intoArray(tile, t + 2 * BLOCK + L);
        a22.intoArray(tile, t + 2 * BLOCK + 2 * L);
        a32.intoArray(tile, t + 2 * BLOCK + 3 * L);
        a03.intoArray(tile, t + 3 * BLOCK);
        a13.intoArray(tile, t + 3 * BLOCK + L);
        a23.intoArray(tile, t + 3 * BLOCK + 2 * L);
        a33.intoArray(tile, t + 3 * BLOCK + 3 * L);
        a04.intoArray(tile, t + 4 * BLOCK);
        a14.intoArray(tile, t + 4 * BLOCK + L);
        a24.intoArray(tile, t + 4 * BLOCK + 2 * L);
        a34.intoArray(tile, t + 4 * BLOCK + 3 * L);
        a05.intoArray(tile, t + 5 * BLOCK);
        a15.intoArray(tile, t + 5 * BLOCK + L);
        a25.intoArray(tile, t + 5 * BLOCK + 2 * L);
        a35.intoArray(tile, t + 5 * BLOCK + 3 * L);
    }

    /** As {@link #block4} for a last block of 2 vectors of channels. */
    private void block2(float[] x, int k0, int k1, int[] pix, int j, float[] w, int wb, float[] tile, int t) {
        final int q0 = pix[j], q1 = pix[j + 1], q2 = pix[j + 2], q3 = pix[j + 3], q4 = pix[j + 4], q5 = pix[j + 5];
        final int[] tp = tap;
        final int wd = 2 * L;
        FloatVector a00 = FloatVector.fromArray(S, tile, t), a10 = FloatVector.fromArray(S, tile, t + L);
        FloatVector a01 = FloatVector.fromArray(S, tile, t + wd), a11 = FloatVector.fromArray(S, tile, t + wd + L);
        FloatVector a02 = FloatVector.fromArray(S, tile, t + 2 * wd);
        FloatVector a12 = FloatVector.fromArray(S, tile, t + 2 * wd + L);
        FloatVector a03 = FloatVector.fromArray(S, tile, t + 3 * wd);
        FloatVector a13 = FloatVector.fromArray(S, tile, t + 3 * wd + L);
        FloatVector a04 = FloatVector.fromArray(S, tile, t + 4 * wd);
        FloatVector a14 = FloatVector.fromArray(S, tile, t + 4 * wd + L);
        FloatVector a05 = FloatVector.fromArray(S, tile, t + 5 * wd);
        FloatVector a15 = FloatVector.fromArray(S, tile, t + 5 * wd + L);
        for (int p = k0, wo = wb + k0 * wd; p < k1; p++, wo += wd) {
            int xo = tp[p];
            FloatVector w0 = FloatVector.fromArray(S, w, wo);
            FloatVector w1 = FloatVector.fromArray(S, w, wo + L);
            FloatVector v = FloatVector.broadcast(S, x[xo + q0]);
            a00 = w0.fma(v, a00);
            a10 = w1.fma(v, a10);
            v = FloatVector.broadcast(S, x[xo + q1]);
            a01 = w0.fma(v, a01);
            a11 = w1.fma(v, a11);
            v = FloatVector.broadcast(S, x[xo + q2]);
            a02 = w0.fma(v, a02);
            a12 = w1.fma(v, a12);
            v = FloatVector.broadcast(S, x[xo + q3]);
            a03 = w0.fma(v, a03);
            a13 = w1.fma(v, a13);
            v = FloatVector.broadcast(S, x[xo + q4]);
            a04 = w0.fma(v, a04);
            a14 = w1.fma(v, a14);
            v = FloatVector.broadcast(S, x[xo + q5]);
            a05 = w0.fma(v, a05);
            a15 = w1.fma(v, a15);
        }
        a00.intoArray(tile, t);
        a10.intoArray(tile, t + L);
        a01.intoArray(tile, t + wd);
        a11.intoArray(tile, t + wd + L);
        a02.intoArray(tile, t + 2 * wd);
        a12.intoArray(tile, t + 2 * wd + L);
        a03.intoArray(tile, t + 3 * wd);
        a13.intoArray(tile, t + 3 * wd + L);
        a04.intoArray(tile, t + 4 * wd);
        a14.intoArray(tile, t + 4 * wd + L);
        a05.intoArray(tile, t + 5 * wd);
        a15.intoArray(tile, t + 5 * wd + L);
    }

    /** As {@link #block4} for a last block of 1 vector of channels. */
    private void block1(float[] x, int k0, int k1, int[] pix, int j, float[] w, int wb, float[] tile, int t) {
        final int q0 = pix[j], q1 = pix[j + 1], q2 = pix[j + 2], q3 = pix[j + 3], q4 = pix[j + 4], q5 = pix[j + 5];
        final int[] tp = tap;
        FloatVector a0 = FloatVector.fromArray(S, tile, t);
        FloatVector a1 = FloatVector.fromArray(S, tile, t + L);
        FloatVector a2 = FloatVector.fromArray(S, tile, t + 2 * L);
        FloatVector a3 = FloatVector.fromArray(S, tile, t + 3 * L);
        FloatVector a4 = FloatVector.fromArray(S, tile, t + 4 * L);
        FloatVector a5 = FloatVector.fromArray(S, tile, t + 5 * L);
        for (int p = k0, wo = wb + k0 * L; p < k1; p++, wo += L) {
            int xo = tp[p];
            FloatVector w0 = FloatVector.fromArray(S, w, wo);
            a0 = w0.fma(FloatVector.broadcast(S, x[xo + q0]), a0);
            a1 = w0.fma(FloatVector.broadcast(S, x[xo + q1]), a1);
            a2 = w0.fma(FloatVector.broadcast(S, x[xo + q2]), a2);
            a3 = w0.fma(FloatVector.broadcast(S, x[xo + q3]), a3);
            a4 = w0.fma(FloatVector.broadcast(S, x[xo + q4]), a4);
            a5 = w0.fma(FloatVector.broadcast(S, x[xo + q5]), a5);
        }
        a0.intoArray(tile, t);
        a1.intoArray(tile, t + L);
        a2.intoArray(tile, t + 2 * L);
        a3.intoArray(tile, t + 3 * L);
        a4.intoArray(tile, t + 4 * L);
        a5.intoArray(tile, t + 5 * L);
    }
}
