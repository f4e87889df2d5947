package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The spatial implicit GEMM: {@code Y[m, q] = bias[m] + sum_k W[m, k] * X[tap[k] + q]}, with
 * vectors over output positions q and output channels m broadcast. X is a {@link PhaseSlab} (a
 * convolution: k runs over (c, r, s)) or any K x positions matrix with row pitch {@code ld}
 * ({@code tap[k] = k * ld}: the pointwise half of a separable convolution).
 *
 * <p>Micro-kernel: 4 output channels x 6 vectors of positions (24 accumulators of the 32 vector
 * registers; per k, 6 loads and 4 broadcasts feed 24 fused multiply-adds, enough independent
 * chains to cover the FMA latency on two pipes); positions left over take 4 x 2 and 4 x 1
 * blocks, channels left over a block whose missing rows have zero weights and are not stored.
 * Blocking (the GEMM loop order of Goto and van de Geijn): K is cut into chunks of {@code kc};
 * for each chunk and each block of positions, every block of output channels runs, so the X
 * values of that chunk and block (a few tens of KiB) are read from the L1 cache M / 4 times,
 * while the weights, packed once ({@link PackedWeights}) chunk by chunk as blocks of 4 rows interleaved along
 * k (one stream per chunk), come from L2. The accumulators of a range live in a per-thread
 * array between chunks (bias first); {@link Output} then copies them to NCHW, applying ReLU.
 * The kernels do nothing else on purpose: a kernel method that grows past the JIT's inlining
 * budget stops being compiled into plain vector instructions and runs tens of times slower.
 */
final class SpatialGemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Floats per vector. */
    static final int L = S.length();
    /** Output channels per block. */
    static final int MR = 4;
    /** Vectors of positions per full block. */
    static final int NV = 6;
    /** Floats per full block of positions. */
    static final int BLOCK = NV * L;
    /**
     * Bytes of X one chunk of K may touch for one block of positions: half of Zen 5's 48 KiB L1
     * data cache (12 and 48 KiB measured slower on the seed and ResNet layers, 32 KiB the same).
     */
    static final int CHUNK_BYTES = 24 << 10;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private SpatialGemm() {
    }

    /** Length of the packed weights of an m x k matrix. */
    static int packedLength(int m, int k) {
        return Math.ceilDiv(m, MR) * MR * k;
    }

    /**
     * Packs the row-major m x k matrix at {@code src} for chunks of {@code kc} along k: chunk
     * after chunk, and within a chunk blocks of MR rows interleaved along k, so that the weights
     * one chunk reads are one contiguous stream (a block's piece is a few KiB, and the prefetcher
     * followed a stream of them, a row pitch apart, less well: 3-4% on the seed layers).
     */
    static void pack(MemorySegment src, int m, int k, int kc, float[] dst) {
        int rows = Math.ceilDiv(m, MR) * MR;
        float[] row = new float[k];
        for (int i = 0; i < rows; i++) {
            if (i < m) {
                MemorySegment.copy(src, F, (long) i * k * Float.BYTES, row, 0, k);
            } else {
                Arrays.fill(row, 0f);
            }
            for (int k0 = 0; k0 < k; k0 += kc) {
                int k1 = Math.min(k, k0 + kc);
                int base = blockOffset(rows, k0, k1, i / MR) + i % MR;
                for (int p = k0; p < k1; p++) {
                    dst[base + (p - k0) * MR] = row[p];
                }
            }
        }
    }

    /** Where block b's weights of chunk [k0, k1) start in the packed weights of {@code rows} rows. */
    private static int blockOffset(int rows, int k0, int k1, int b) {
        return k0 * rows + b * MR * (k1 - k0);
    }

    /**
     * Where the results go: output channel m's position q (of a range whose plane pitch is
     * {@code wq}, from output row 0 of the range) is element {@code base + m * channelStride +
     * (q / wq) * ow + q % wq} of y, if {@code q % wq < ow}; ReLU applied on the way if {@code relu}.
     */
    record Output(MemorySegment y, long base, long channelStride, int wq, int ow, boolean relu) {
        /**
         * Copies {@code src} from {@code at}, positions [q, q + n), to output channel m: each
         * row's wanted positions a vector at a time straight into y (ReLU on the way), the last
         * vector of a row masked. One pass over the values; packing the rows together on the heap
         * first and copying them in one piece took twice as long (7% of a 7x7 stem layer).
         */
        void put(float[] src, int at, int m, int q, int n) {
            int end = q + n;
            int oh = q / wq;
            int col = q - oh * wq;
            long dst = (base + m * channelStride + (long) oh * ow) * Float.BYTES;
            int t = at;
            while (q < end) {
                int len = Math.min(end - q, wq - col);
                int valid = Math.min(len, ow - col);
                if (valid > 0) {
                    long d = dst + (long) col * Float.BYTES;
                    int j = 0;
                    for (; j <= valid - L; j += L) {
                        FloatVector v = FloatVector.fromArray(S, src, t + j);
                        (relu ? v.max(0f) : v).intoMemorySegment(y, d + (long) j * Float.BYTES, ORDER);
                    }
                    if (j < valid) {
                        VectorMask<Float> mask = S.indexInRange(j, valid);
                        FloatVector v = FloatVector.fromArray(S, src, t + j, mask);
                        (relu ? v.max(0f) : v).intoMemorySegment(y, d + (long) j * Float.BYTES, ORDER, mask);
                    }
                }
                q += len;
                t += len;
                col = 0;
                dst += (long) ow * Float.BYTES;
            }
        }
    }

    /**
     * Taps per chunk of K, whole input channels of {@code taps} taps each, when one channel's
     * taps touch {@code floatsPerChannel} floats of X for a block of positions (a 3x3 kernel's
     * taps share rows, a strided one's spread over phase planes), so that a chunk's X stays
     * within {@link #CHUNK_BYTES}.
     */
    static int chunk(int taps, long floatsPerChannel) {
        long channels = Math.max(1, CHUNK_BYTES / (floatsPerChannel * Float.BYTES));
        return (int) Math.min(Integer.MAX_VALUE / 2, channels * taps);
    }

    /** Row pitch of the accumulators of ranges of at most {@code positions} positions. */
    static int pitch(int positions) {
        return Math.ceilDiv(positions, L) * L;
    }

    /** Floats of the accumulators of m channels at that pitch. */
    static int accumulatorLength(int m, int pitch) {
        long length = (long) Math.ceilDiv(m, MR) * MR * pitch;
        if (length > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("cpu conv2d: accumulators of " + length + " floats too large for the heap");
        }
        return (int) length;
    }

    /**
     * Computes {@code m} output channels at positions [q0, q1) into {@code out}: {@code x},
     * {@code tap} (k entries) as in the class comment, {@code w} packed by {@link #pack} for this {@code kc},
     * {@code bias} null or m values, K in chunks of {@code kc}; {@code acc} holds
     * {@link #accumulatorLength} floats at {@code pitch} ({@link #pitch} of at least q1 - q0).
     * The last vector may run past q1: {@code x} must be readable there, and those lanes are
     * not stored.
     */
    static void compute(float[] x, int[] tap, int k, int kc, float[] w, float[] bias, int m, int q0, int q1,
            Output out, float[] acc, int pitch) {
        int n = q1 - q0;
        int end = Math.ceilDiv(n, L) * L;
        int blocks = Math.ceilDiv(m, MR);
        for (int i = 0; i < blocks * MR; i++) {
            Arrays.fill(acc, i * pitch, i * pitch + end, bias == null || i >= m ? 0f : bias[i]);
        }
        for (int k0 = 0; k0 < k; k0 += kc) {
            int k1 = Math.min(k, k0 + kc);
            // The kernels index the weights of tap p at wb + p * MR.
            int wb = blockOffset(blocks * MR, k0, k1, 0) - k0 * MR;
            int step = MR * (k1 - k0);
            int q = 0;
            for (; q + NV * L <= end; q += NV * L) {
                for (int b = 0; b < blocks; b++) {
                    block4x6(x, tap, k0, k1, q0 + q, w, wb + b * step, acc, b * MR * pitch + q, pitch);
                }
            }
            for (; q + 2 * L <= end; q += 2 * L) {
                for (int b = 0; b < blocks; b++) {
                    block4x2(x, tap, k0, k1, q0 + q, w, wb + b * step, acc, b * MR * pitch + q, pitch);
                }
            }
            for (; q < end; q += L) {
                for (int b = 0; b < blocks; b++) {
                    block4x1(x, tap, k0, k1, q0 + q, w, wb + b * step, acc, b * MR * pitch + q, pitch);
                }
            }
        }
        for (int i = 0; i < m; i++) {
            out.put(acc, i * pitch, i, q0, n);
        }
    }

    /** Taps [k0, k1) of a block of 4 channels (weights from wb) x 6 vectors at q, added to acc[t...] (rows {@code ld} apart). */
    private static void block4x6(float[] x, int[] tap, int k0, int k1, int q, float[] w, int wb, float[] acc, int t,
            int ld) {
        int t1 = t + ld;
        int t2 = t1 + ld;
        int t3 = t2 + ld;
        FloatVector c00 = FloatVector.fromArray(S, acc, t);
        FloatVector c01 = FloatVector.fromArray(S, acc, t + L);
        FloatVector c02 = FloatVector.fromArray(S, acc, t + 2 * L);
        FloatVector c03 = FloatVector.fromArray(S, acc, t + 3 * L);
        FloatVector c04 = FloatVector.fromArray(S, acc, t + 4 * L);
        FloatVector c05 = FloatVector.fromArray(S, acc, t + 5 * L);
        FloatVector c10 = FloatVector.fromArray(S, acc, t1);
        FloatVector c11 = FloatVector.fromArray(S, acc, t1 + L);
        FloatVector c12 = FloatVector.fromArray(S, acc, t1 + 2 * L);
        FloatVector c13 = FloatVector.fromArray(S, acc, t1 + 3 * L);
        FloatVector c14 = FloatVector.fromArray(S, acc, t1 + 4 * L);
        FloatVector c15 = FloatVector.fromArray(S, acc, t1 + 5 * L);
        FloatVector c20 = FloatVector.fromArray(S, acc, t2);
        FloatVector c21 = FloatVector.fromArray(S, acc, t2 + L);
        FloatVector c22 = FloatVector.fromArray(S, acc, t2 + 2 * L);
        FloatVector c23 = FloatVector.fromArray(S, acc, t2 + 3 * L);
        FloatVector c24 = FloatVector.fromArray(S, acc, t2 + 4 * L);
        FloatVector c25 = FloatVector.fromArray(S, acc, t2 + 5 * L);
        FloatVector c30 = FloatVector.fromArray(S, acc, t3);
        FloatVector c31 = FloatVector.fromArray(S, acc, t3 + L);
        FloatVector c32 = FloatVector.fromArray(S, acc, t3 + 2 * L);
        FloatVector c33 = FloatVector.fromArray(S, acc, t3 + 3 * L);
        FloatVector c34 = FloatVector.fromArray(S, acc, t3 + 4 * L);
        FloatVector c35 = FloatVector.fromArray(S, acc, t3 + 5 * L);
        for (int p = k0, wo = wb + k0 * MR; p < k1; p++, wo += MR) {
            int xo = tap[p] + q;
            FloatVector w0 = FloatVector.broadcast(S, w[wo]);
            FloatVector w1 = FloatVector.broadcast(S, w[wo + 1]);
            FloatVector w2 = FloatVector.broadcast(S, w[wo + 2]);
            FloatVector w3 = FloatVector.broadcast(S, w[wo + 3]);
            FloatVector v = FloatVector.fromArray(S, x, xo);
            c00 = v.fma(w0, c00);
            c10 = v.fma(w1, c10);
            c20 = v.fma(w2, c20);
            c30 = v.fma(w3, c30);
            v = FloatVector.fromArray(S, x, xo + L);
            c01 = v.fma(w0, c01);
            c11 = v.fma(w1, c11);
            c21 = v.fma(w2, c21);
            c31 = v.fma(w3, c31);
            v = FloatVector.fromArray(S, x, xo + 2 * L);
            c02 = v.fma(w0, c02);
            c12 = v.fma(w1, c12);
            c22 = v.fma(w2, c22);
            c32 = v.fma(w3, c32);
            v = FloatVector.fromArray(S, x, xo + 3 * L);
            c03 = v.fma(w0, c03);
            c13 = v.fma(w1, c13);
            c23 = v.fma(w2, c23);
            c33 = v.fma(w3, c33);
            v = FloatVector.fromArray(S, x, xo + 4 * L);
            c04 = v.fma(w0, c04);
            c14 = v.fma(w1, c14);
            c24 = v.fma(w2, c24);
            c34 = v.fma(w3, c34);
            v = FloatVector.fromArray(S, x, xo + 5 * L);
            c05 = v.fma(w0, c05);
            c15 = v.fma(w1, c15);
            c25 = v.fma(w2, c25);
            c35 = v.fma(w3, c35);
        }
        c00.intoArray(acc, t);
        c01.intoArray(acc, t + L);
        c02.intoArray(acc, t + 2 * L);
        c03.intoArray(acc, t + 3 * L);
        c04.intoArray(acc, t + 4 * L);
        c05.intoArray(acc, t + 5 * L);
        c10.intoArray(acc, t1);
        c11.intoArray(acc, t1 + L);
        c12.intoArray(acc, t1 + 2 * L);
        c13.intoArray(acc, t1 + 3 * L);
        c14.intoArray(acc, t1 + 4 * L);
        c15.intoArray(acc, t1 + 5 * L);
        c20.intoArray(acc, t2);
        c21.intoArray(acc, t2 + L);
        c22.intoArray(acc, t2 + 2 * L);
        c23.intoArray(acc, t2 + 3 * L);
        c24.intoArray(acc, t2 + 4 * L);
        c25.intoArray(acc, t2 + 5 * L);
        c30.intoArray(acc, t3);
        c31.intoArray(acc, t3 + L);
        c32.intoArray(acc, t3 + 2 * L);
        c33.intoArray(acc, t3 + 3 * L);
        c34.intoArray(acc, t3 + 4 * L);
        c35.intoArray(acc, t3 + 5 * L);
    }

    /** As {@link #block4x6} for 2 vectors of positions. */
    private static void block4x2(float[] x, int[] tap, int k0, int k1, int q, float[] w, int wb, float[] acc, int t,
            int ld) {
        int t1 = t + ld;
        int t2 = t1 + ld;
        int t3 = t2 + ld;
        FloatVector c00 = FloatVector.fromArray(S, acc, t);
        FloatVector c01 = FloatVector.fromArray(S, acc, t + L);
        FloatVector c10 = FloatVector.fromArray(S, acc, t1);
        FloatVector c11 = FloatVector.fromArray(S, acc, t1 + L);
        FloatVector c20 = FloatVector.fromArray(S, acc, t2);
        FloatVector c21 = FloatVector.fromArray(S, acc, t2 + L);
        FloatVector c30 = FloatVector.fromArray(S, acc, t3);
        FloatVector c31 = FloatVector.fromArray(S, acc, t3 + L);
        for (int p = k0, wo = wb + k0 * MR; p < k1; p++, wo += MR) {
            int xo = tap[p] + q;
            FloatVector w0 = FloatVector.broadcast(S, w[wo]);
            FloatVector w1 = FloatVector.broadcast(S, w[wo + 1]);
            FloatVector w2 = FloatVector.broadcast(S, w[wo + 2]);
            FloatVector w3 = FloatVector.broadcast(S, w[wo + 3]);
            FloatVector v = FloatVector.fromArray(S, x, xo);
            c00 = v.fma(w0, c00);
            c10 = v.fma(w1, c10);
            c20 = v.fma(w2, c20);
            c30 = v.fma(w3, c30);
            v = FloatVector.fromArray(S, x, xo + L);
            c01 = v.fma(w0, c01);
            c11 = v.fma(w1, c11);
            c21 = v.fma(w2, c21);
            c31 = v.fma(w3, c31);
        }
        c00.intoArray(acc, t);
        c01.intoArray(acc, t + L);
        c10.intoArray(acc, t1);
        c11.intoArray(acc, t1 + L);
        c20.intoArray(acc, t2);
        c21.intoArray(acc, t2 + L);
        c30.intoArray(acc, t3);
        c31.intoArray(acc, t3 + L);
    }

    /** As {@link #block4x6} for 1 vector of positions. */
    private static void block4x1(float[] x, int[] tap, int k0, int k1, int q, float[] w, int wb, float[] acc, int t,
            int ld) {
        int t1 = t + ld;
        int t2 = t1 + ld;
        int t3 = t2 + ld;
        FloatVector c00 = FloatVector.fromArray(S, acc, t);
        FloatVector c10 = FloatVector.fromArray(S, acc, t1);
        FloatVector c20 = FloatVector.fromArray(S, acc, t2);
        FloatVector c30 = FloatVector.fromArray(S, acc, t3);
        for (int p = k0, wo = wb + k0 * MR; p < k1; p++, wo += MR) {
            int xo = tap[p] + q;
            FloatVector w0 = FloatVector.broadcast(S, w[wo]);
            FloatVector w1 = FloatVector.broadcast(S, w[wo + 1]);
            FloatVector w2 = FloatVector.broadcast(S, w[wo + 2]);
            FloatVector w3 = FloatVector.broadcast(S, w[wo + 3]);
            FloatVector v = FloatVector.fromArray(S, x, xo);
            c00 = v.fma(w0, c00);
            c10 = v.fma(w1, c10);
            c20 = v.fma(w2, c20);
            c30 = v.fma(w3, c30);
        }
        c00.intoArray(acc, t);
        c10.intoArray(acc, t1);
        c20.intoArray(acc, t2);
        c30.intoArray(acc, t3);
    }
}
