package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.Softmax;
import org.convkit.tensor.Shape;

/**
 * Softmax on CUDA: {@code kernels/softmax/softmax.cu}, launched as {@code ClSoftmax} launches its
 * OpenCL twin: a block per row ({@code softmax_fwd_wg}) for rows of at least {@value #LONG_ROW}
 * elements that are contiguous or fewer than {@value #FEW_ROWS}, else a thread per row
 * ({@code softmax_fwd}).
 */
final class CudaSoftmax extends CudaKernel {
    static final String MODULE = "softmax/softmax";
    static final String ENTRY_ROW = "softmax_fwd";
    static final String ENTRY_WG = "softmax_fwd_wg";
    /** Block of the thread-per-row variant (softmax.cl's default). */
    static final int ROW_WG = 64;
    /** Block of the block-per-row variant (softmax.cl's default). */
    static final int WG = 128;
    /** A row this long is worth a block. */
    static final int LONG_ROW = 64;
    /** Below this many rows, one thread per row leaves most of a device idle. */
    static final long FEW_ROWS = 8192;

    CudaSoftmax(CudaDevice device, Softmax op, Shape input) {
        super(device, op, List.of(input));
        use(plan(op, input));
    }

    static List<CudaLaunch> plan(Softmax op, Shape input) {
        Softmax.Geometry g = op.geometry(input);
        int rows = (int) g.rows();
        if (g.length() >= LONG_ROW && (g.inner() == 1 || g.rows() < FEW_ROWS)) {
            return List.of(CudaLaunch.of(MODULE, ENTRY_WG, new long[] {(long) rows * WG}, new long[] {WG})
                    .input(0).output().ints(g.length(), (int) g.inner()).build());
        }
        return List.of(CudaLaunch.of(MODULE, ENTRY_ROW, new long[] {roundUp(rows, ROW_WG)}, new long[] {ROW_WG})
                .input(0).output().ints(rows, g.length(), (int) g.inner()).build());
    }
}
