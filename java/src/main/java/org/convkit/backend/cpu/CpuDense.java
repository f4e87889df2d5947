package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Activation;
import org.convkit.ops.Dense;
import org.convkit.tensor.Shape;

/**
 * dense (ONNX Gemm) on the CPU, blocked. A' is first packed into a heap array of M rows of K
 * (transposed if need be). Two ways through B:
 * <ul>
 *   <li>Dot products (the general case). Work item = a block of up to {@link #ROWS} rows by
 *       {@link #COLS} columns of Y: it packs its columns of B' into a thread-local array, column
 *       after column, each contiguous along K, then computes 4x4 blocks of Y as 16 independent
 *       dot products over K (8 loads feed 16 fused multiply-adds, and 16 accumulators hide the
 *       FMA latency), with 4x1, 1x4 and 1x1 blocks at the edges. With B stored [N, K] a column of
 *       B' is a contiguous row of B, so a batch of one row (M = 1) runs as 1x4 blocks reading B
 *       once, in order.</li>
 *   <li>Row updates, for B stored [K, N] and at most {@link #AXPY_MAX_M} rows: packing would read
 *       B column-wise (a strided walk that costs more than the arithmetic at small M), so a work
 *       item takes {@link #AXPY_COLS} columns and, for each k, adds {@code A'[m, k] * B[k, cols]}
 *       (a contiguous run of B) to every row's accumulators, a loop the JIT vectorises.</li>
 * </ul>
 */
final class CpuDense extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Rows of Y per work item. */
    private static final int ROWS = 64;
    /** Columns of Y per work item (a multiple of 4). */
    private static final int COLS = 16;
    /** Largest M that takes the row-update path when B is [K, N]. */
    static final int AXPY_MAX_M = 8;
    /** Columns of Y per work item on the row-update path. */
    private static final int AXPY_COLS = 256;
    /** Rows of B per step of the row-update path (the code below is written for 4). */
    private static final int AXPY_K = 4;

    private final Dense.Geometry g;
    private final boolean axpy;
    private final int rowBlocks;
    private final int colBlocks;
    private final ThreadLocal<float[]> packedB;

    CpuDense(CpuDevice device, Dense dense, Shape input) {
        super(device, dense, List.of(input));
        this.g = dense.geometry(input);
        long items = (long) ceilDiv(g.m(), ROWS) * ceilDiv(g.n(), COLS);
        if (items > Integer.MAX_VALUE || (long) g.m() * g.k() > Integer.MAX_VALUE - 8
                || (long) COLS * g.k() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("cpu " + describe() + ": too large for this kernel's int-indexed heap arrays");
        }
        this.axpy = !g.transB() && g.m() <= AXPY_MAX_M;
        this.rowBlocks = axpy ? 1 : ceilDiv(g.m(), ROWS);
        this.colBlocks = ceilDiv(g.n(), axpy ? AXPY_COLS : COLS);
        // Dot products: the packed columns; row updates: the accumulators of M rows, then AXPY_K rows of B.
        int size = axpy ? (AXPY_MAX_M + AXPY_K) * AXPY_COLS : COLS * g.k();
        this.packedB = ThreadLocal.withInitial(() -> new float[size]);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        float[] a = packA(CpuDevice.segment(args.get(0)));
        MemorySegment b = CpuDevice.segment(args.get(1));
        MemorySegment c = g.hasBias() ? CpuDevice.segment(args.get(2)) : null;
        MemorySegment y = CpuDevice.segment(output);
        if (axpy) {
            cpu.parallelFor(colBlocks, item -> rowUpdates(a, b, c, y, item * AXPY_COLS,
                    Math.min(g.n(), (item + 1) * AXPY_COLS)));
            return;
        }
        cpu.parallelFor(rowBlocks * colBlocks, item -> {
            int m0 = (item / colBlocks) * ROWS;
            int n0 = (item % colBlocks) * COLS;
            computeBlock(a, b, c, y, m0, Math.min(g.m(), m0 + ROWS), n0, Math.min(g.n(), n0 + COLS));
        });
    }

    /** A' as M rows of K. */
    private float[] packA(MemorySegment src) {
        int m = g.m();
        int k = g.k();
        float[] a = new float[m * k];
        if (!g.transA()) {
            MemorySegment.copy(src, F, 0, a, 0, a.length);
        } else {
            // A is [K, M]: read it row by row (contiguous), scatter into columns.
            for (int p = 0; p < k; p++) {
                long row = (long) p * m;
                for (int i = 0; i < m; i++) {
                    a[i * k + p] = src.getAtIndex(F, row + i);
                }
            }
        }
        return a;
    }

    /** Columns n0..n1 of B' into {@code bp}, column j - n0 at offset (j - n0) * K. */
    private void packB(MemorySegment b, float[] bp, int n0, int n1) {
        int k = g.k();
        int n = g.n();
        if (g.transB()) {
            // B is [N, K]: column n of B' is row n of B, contiguous.
            for (int j = n0; j < n1; j++) {
                MemorySegment.copy(b, F, (long) j * k * Float.BYTES, bp, (j - n0) * k, k);
            }
        } else {
            for (int p = 0; p < k; p++) {
                long row = (long) p * n;
                for (int j = n0; j < n1; j++) {
                    bp[(j - n0) * k + p] = b.getAtIndex(F, row + j);
                }
            }
        }
    }

    private void computeBlock(float[] a, MemorySegment b, MemorySegment c, MemorySegment y, int m0, int m1, int n0,
            int n1) {
        final int k = g.k();
        float[] bp = packedB.get();
        packB(b, bp, n0, n1);
        int width = n1 - n0;
        int wide = width & ~3;
        int m = m0;
        for (; m + 4 <= m1; m += 4) {
            int a0 = m * k;
            int a1 = a0 + k;
            int a2 = a1 + k;
            int a3 = a2 + k;
            for (int j = 0; j < wide; j += 4) {
                int b0 = j * k;
                int b1 = b0 + k;
                int b2 = b1 + k;
                int b3 = b2 + k;
                float c00 = 0, c01 = 0, c02 = 0, c03 = 0;
                float c10 = 0, c11 = 0, c12 = 0, c13 = 0;
                float c20 = 0, c21 = 0, c22 = 0, c23 = 0;
                float c30 = 0, c31 = 0, c32 = 0, c33 = 0;
                for (int p = 0; p < k; p++) {
                    float x0 = a[a0 + p];
                    float x1 = a[a1 + p];
                    float x2 = a[a2 + p];
                    float x3 = a[a3 + p];
                    float w0 = bp[b0 + p];
                    float w1 = bp[b1 + p];
                    float w2 = bp[b2 + p];
                    float w3 = bp[b3 + p];
                    c00 = Math.fma(x0, w0, c00);
                    c01 = Math.fma(x0, w1, c01);
                    c02 = Math.fma(x0, w2, c02);
                    c03 = Math.fma(x0, w3, c03);
                    c10 = Math.fma(x1, w0, c10);
                    c11 = Math.fma(x1, w1, c11);
                    c12 = Math.fma(x1, w2, c12);
                    c13 = Math.fma(x1, w3, c13);
                    c20 = Math.fma(x2, w0, c20);
                    c21 = Math.fma(x2, w1, c21);
                    c22 = Math.fma(x2, w2, c22);
                    c23 = Math.fma(x2, w3, c23);
                    c30 = Math.fma(x3, w0, c30);
                    c31 = Math.fma(x3, w1, c31);
                    c32 = Math.fma(x3, w2, c32);
                    c33 = Math.fma(x3, w3, c33);
                }
                int n = n0 + j;
                store(y, c, m, n, c00, c01, c02, c03);
                store(y, c, m + 1, n, c10, c11, c12, c13);
                store(y, c, m + 2, n, c20, c21, c22, c23);
                store(y, c, m + 3, n, c30, c31, c32, c33);
            }
            for (int j = wide; j < width; j++) {
                int b0 = j * k;
                float c0 = 0, c1 = 0, c2 = 0, c3 = 0;
                for (int p = 0; p < k; p++) {
                    float w = bp[b0 + p];
                    c0 = Math.fma(a[a0 + p], w, c0);
                    c1 = Math.fma(a[a1 + p], w, c1);
                    c2 = Math.fma(a[a2 + p], w, c2);
                    c3 = Math.fma(a[a3 + p], w, c3);
                }
                int n = n0 + j;
                store(y, c, m, n, c0);
                store(y, c, m + 1, n, c1);
                store(y, c, m + 2, n, c2);
                store(y, c, m + 3, n, c3);
            }
        }
        for (; m < m1; m++) {
            int a0 = m * k;
            for (int j = 0; j < wide; j += 4) {
                int b0 = j * k;
                int b1 = b0 + k;
                int b2 = b1 + k;
                int b3 = b2 + k;
                float c0 = 0, c1 = 0, c2 = 0, c3 = 0;
                for (int p = 0; p < k; p++) {
                    float x = a[a0 + p];
                    c0 = Math.fma(x, bp[b0 + p], c0);
                    c1 = Math.fma(x, bp[b1 + p], c1);
                    c2 = Math.fma(x, bp[b2 + p], c2);
                    c3 = Math.fma(x, bp[b3 + p], c3);
                }
                store(y, c, m, n0 + j, c0, c1, c2, c3);
            }
            for (int j = wide; j < width; j++) {
                int b0 = j * k;
                float acc = 0;
                for (int p = 0; p < k; p++) {
                    acc = Math.fma(a[a0 + p], bp[b0 + p], acc);
                }
                store(y, c, m, n0 + j, acc);
            }
        }
    }

    /**
     * Columns n0..n1 of Y for every row, B stored [K, N]: {@code acc[m] += A'[m, k] * B[k, n0..n1]}
     * for each k, four k at a time so that each accumulator is loaded and stored once per four
     * multiply-adds (the same order of additions as one k at a time).
     */
    private void rowUpdates(float[] a, MemorySegment b, MemorySegment c, MemorySegment y, int n0, int n1) {
        final int k = g.k();
        final int m = g.m();
        final int n = g.n();
        final int width = n1 - n0;
        float[] buf = packedB.get();
        // Rows' accumulators at [i * AXPY_COLS, + width), then AXPY_K rows of B.
        final int rows = AXPY_MAX_M * AXPY_COLS;
        final int r1 = rows + AXPY_COLS;
        final int r2 = r1 + AXPY_COLS;
        final int r3 = r2 + AXPY_COLS;
        Arrays.fill(buf, 0, rows, 0f);
        int p = 0;
        for (; p + AXPY_K <= k; p += AXPY_K) {
            for (int q = 0; q < AXPY_K; q++) {
                MemorySegment.copy(b, F, ((long) (p + q) * n + n0) * Float.BYTES, buf, rows + q * AXPY_COLS, width);
            }
            for (int i = 0; i < m; i++) {
                int ai = i * k + p;
                float x0 = a[ai];
                float x1 = a[ai + 1];
                float x2 = a[ai + 2];
                float x3 = a[ai + 3];
                int acc = i * AXPY_COLS;
                for (int j = 0; j < width; j++) {
                    float v = Math.fma(x0, buf[rows + j], buf[acc + j]);
                    v = Math.fma(x1, buf[r1 + j], v);
                    v = Math.fma(x2, buf[r2 + j], v);
                    buf[acc + j] = Math.fma(x3, buf[r3 + j], v);
                }
            }
        }
        for (; p < k; p++) {
            MemorySegment.copy(b, F, ((long) p * n + n0) * Float.BYTES, buf, rows, width);
            for (int i = 0; i < m; i++) {
                float x = a[i * k + p];
                int acc = i * AXPY_COLS;
                for (int j = 0; j < width; j++) {
                    buf[acc + j] = Math.fma(x, buf[rows + j], buf[acc + j]);
                }
            }
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < width; j++) {
                store(y, c, i, n0 + j, buf[i * AXPY_COLS + j]);
            }
        }
    }

    private void store(MemorySegment y, MemorySegment c, int m, int n, float v0, float v1, float v2, float v3) {
        store(y, c, m, n, v0);
        store(y, c, m, n + 1, v1);
        store(y, c, m, n + 2, v2);
        store(y, c, m, n + 3, v3);
    }

    /** y[m, n] = act(alpha * sum + beta * C[m, n]). */
    private void store(MemorySegment y, MemorySegment c, int m, int n, float sum) {
        float v = g.alpha() * sum;
        if (c != null) {
            v = Math.fma(g.beta(), c.getAtIndex(F, (long) m * g.biasRowStride() + (long) n * g.biasColStride()), v);
        }
        if (g.activation() == Activation.RELU && v < 0) {
            v = 0;
        }
        y.setAtIndex(F, (long) m * g.n() + n, v);
    }
}
