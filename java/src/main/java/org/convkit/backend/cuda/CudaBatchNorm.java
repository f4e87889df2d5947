package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.BatchNorm;
import org.convkit.tensor.Shape;

/**
 * batchnorm (inference) on CUDA: {@code kernels/batchnorm/batchnorm.cu}, launched as
 * {@code ClBatchNorm} launches its OpenCL twin: {@code batchnorm_planes} (a block row per
 * channel plane) for planes of at least {@link #WG} elements, else {@code batchnorm_flat}.
 */
final class CudaBatchNorm extends CudaKernel {
    static final String MODULE = "batchnorm/batchnorm";
    /** Block size of both entries (batchnorm.cl's default). */
    static final int WG = 256;
    /** Elements per thread, about (batchnorm.cl's default): the grid is sized for it, the kernels loop over the rest. */
    static final int PER_ITEM = 8;

    CudaBatchNorm(CudaDevice device, BatchNorm bn, Shape input) {
        super(device, bn, List.of(input));
        use(plan(bn, input));
    }

    static List<CudaLaunch> plan(BatchNorm bn, Shape input) {
        long count = input.elementCount();
        int c = bn.channels(input);
        int planes = input.dim(0) * c;
        int inner = (int) (count / planes);
        boolean byPlane = inner >= WG;
        CudaLaunch.Builder b = byPlane
                ? CudaLaunch.of(MODULE, "batchnorm_planes", new long[] {groups(inner) * WG, planes}, new long[] {WG, 1})
                : CudaLaunch.of(MODULE, "batchnorm_flat", new long[] {groups(count) * WG}, new long[] {WG});
        b.input(0).input(1).input(2).input(3).input(4).output().ints(c, inner);
        if (!byPlane) {
            b.ints((int) count);
        }
        return List.of(b.f32(bn.epsilon()).build());
    }

    /** Blocks for {@code elements}, about {@link #PER_ITEM} per thread, at least one. */
    private static long groups(long elements) {
        return Math.max(1, (elements + (long) WG * PER_ITEM - 1) / ((long) WG * PER_ITEM));
    }
}
