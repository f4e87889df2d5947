package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.Dense;
import org.convkit.tensor.Shape;

/**
 * dense (ONNX Gemm) on CUDA: {@code kernels/dense/dense.cu}, launched as {@code ClDense} launches
 * its OpenCL twin: a batch of at most {@link #SMALL_M} rows as a matrix-vector product
 * ({@code dense_small_nk} when B is {@code [N, K]}, {@code dense_small_kn} when it is
 * {@code [K, N]}), anything larger as the tiled GEMM {@code dense_tiled}. The tiles' shared
 * arrays are static in the kernels (at most 32 KiB), within every CUDA device's 48 KiB per block.
 */
final class CudaDense extends CudaKernel {
    static final String MODULE = "dense/dense";
    /** Output tile of a block of dense_tiled, and the block of one thread (dense.cl's defaults). */
    static final int TILE_M = 64;
    static final int TILE_N = 64;
    static final int WPT_M = 4;
    static final int WPT_N = 4;
    /** Largest M that takes the matrix-vector kernels. */
    static final int SMALL_M = 8;
    /** Block size of dense_small_nk. */
    static final int SMALL_WG = 64;
    /** Block of dense_small_kn: column quads x slices of K. */
    static final int KN_WX = 16;
    static final int KN_WY = 16;

    CudaDense(CudaDevice device, Dense dense, Shape input) {
        super(device, dense, List.of(input));
        use(plan(dense, input));
    }

    static List<CudaLaunch> plan(Dense dense, Shape input) {
        Dense.Geometry g = dense.geometry(input);
        int wgN = TILE_N / WPT_N;
        int wgM = TILE_M / WPT_M;
        boolean small = g.m() <= SMALL_M;
        String entry = !small ? "dense_tiled" : g.transB() ? "dense_small_nk" : "dense_small_kn";
        long[] global;
        long[] local;
        if (!small) {
            global = new long[] {Math.ceilDiv(g.n(), TILE_N) * (long) wgN, Math.ceilDiv(g.m(), TILE_M) * (long) wgM};
            local = new long[] {wgN, wgM};
        } else if (g.transB()) {
            global = new long[] {(long) SMALL_WG * g.n()};
            local = new long[] {SMALL_WG};
        } else {
            global = new long[] {Math.ceilDiv(g.n(), 4 * KN_WX) * (long) KN_WX, KN_WY};
            local = new long[] {KN_WX, KN_WY};
        }
        CudaLaunch.Builder b = CudaLaunch.of(MODULE, entry, global, local)
                .input(0).input(1).inputOrNone(g.hasBias(), 2).output()
                .ints(g.m(), g.n(), g.k(), g.transA() ? 1 : 0);
        if (!small) {
            b.ints(g.transB() ? 1 : 0);
        }
        return List.of(b.f32(g.alpha()).f32(g.beta()).ints(g.biasRowStride(), g.biasColStride(), g.activation().code())
                .build());
    }
}
