package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Dense;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * dense (ONNX Gemm) on OpenCL: {@code kernels/dense/dense.cl}. A batch of at most
 * {@link #SMALL_M} rows runs as a matrix-vector product ({@code dense_small_nk} when B is
 * {@code [N, K]}, {@code dense_small_kn} when it is {@code [K, N]}); anything larger runs the
 * tiled GEMM {@code dense_tiled}. Sizes are kernel arguments; the tiles are build-time macros
 * set here, so that the launch's local size and the kernels' {@code reqd_work_group_size} agree.
 */
final class ClDense extends ClKernel {
    static final String SOURCE = "dense/dense.cl";
    /** Output tile of a work-group of dense_tiled, and the block of one work-item. */
    static final int TILE_M = 64;
    static final int TILE_N = 64;
    static final int TILE_K = 32;
    static final int WPT_M = 4;
    static final int WPT_N = 4;
    /** Largest M that takes the matrix-vector kernels. */
    static final int SMALL_M = 8;
    /** Work-group size of dense_small_nk. */
    static final int SMALL_WG = 64;
    /** Work-group of dense_small_kn: column quads x slices of K. */
    static final int KN_WX = 16;
    static final int KN_WY = 16;

    private final Dense.Geometry g;
    private final String entry;
    private final cl_kernel kernel;
    private final long[] global;
    private final long[] local;

    ClDense(ClDevice device, Dense dense, Shape input) {
        super(device, dense, List.of(input));
        this.g = dense.geometry(input);
        int wgN = TILE_N / WPT_N;
        int wgM = TILE_M / WPT_M;
        requireWorkGroup((long) wgN * wgM);
        boolean small = g.m() <= SMALL_M;
        this.entry = !small ? "dense_tiled" : g.transB() ? "dense_small_nk" : "dense_small_kn";
        // The __local arrays of each entry, as dense.cl declares them.
        long localBytes = !small ? (long) TILE_K * (TILE_M + 4 + TILE_N + 4) * Float.BYTES
                : g.transB() ? (long) SMALL_M * SMALL_WG * Float.BYTES : (long) SMALL_M * KN_WX * KN_WY * 4 * Float.BYTES;
        if (localBytes > device.localMemoryBytes()) {
            throw new IllegalStateException(device.name() + ": " + entry + " needs " + localBytes
                    + " B of local memory, the device has " + device.localMemoryBytes() + " B");
        }
        this.kernel = kernel(SOURCE, Map.of("DENSE_TILE_M", TILE_M, "DENSE_TILE_N", TILE_N, "DENSE_TILE_K", TILE_K,
                "DENSE_WPT_M", WPT_M, "DENSE_WPT_N", WPT_N, "DENSE_SMALL_M", SMALL_M, "DENSE_SMALL_WG", SMALL_WG,
                "DENSE_KN_WX", KN_WX, "DENSE_KN_WY", KN_WY), entry);
        int arg = 4;
        ClDevice.setArg(kernel, arg++, g.m());
        ClDevice.setArg(kernel, arg++, g.n());
        ClDevice.setArg(kernel, arg++, g.k());
        ClDevice.setArg(kernel, arg++, g.transA() ? 1 : 0);
        if (!small) {
            ClDevice.setArg(kernel, arg++, g.transB() ? 1 : 0);
        }
        ClDevice.setArg(kernel, arg++, g.alpha());
        ClDevice.setArg(kernel, arg++, g.beta());
        ClDevice.setArg(kernel, arg++, g.biasRowStride());
        ClDevice.setArg(kernel, arg++, g.biasColStride());
        ClDevice.setArg(kernel, arg, g.activation().code());
        if (!small) {
            this.global = new long[] {ceilDiv(g.n(), TILE_N) * wgN, ceilDiv(g.m(), TILE_M) * wgM};
            this.local = new long[] {wgN, wgM};
        } else if (g.transB()) {
            this.global = new long[] {(long) SMALL_WG * g.n()};
            this.local = new long[] {SMALL_WG};
        } else {
            this.global = new long[] {ceilDiv(g.n(), 4L * KN_WX) * KN_WX, KN_WY};
            this.local = new long[] {KN_WX, KN_WY};
        }
    }

    private static long ceilDiv(long v, long d) {
        return (v + d - 1) / d;
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, args.get(1));
        ClDevice.setArg(kernel, 2, g.hasBias() ? args.get(2) : null);
        ClDevice.setArg(kernel, 3, output);
        cl.launch(kernel, entry + " " + describe(), global, local);
    }
}
