package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.GlobalPool2d;
import org.convkit.tensor.Shape;

/**
 * globalavgpool2d and globalmaxpool2d on CUDA: {@code kernels/pool2d/pool2d.cu}, entries
 * {@code global_pool_avg} and {@code global_pool_max}, one block of {@link CudaPool2d#GLOBAL_WG}
 * threads per {@code (n, c)} plane, as {@code ClGlobalPool2d} launches its OpenCL twin.
 */
final class CudaGlobalPool2d extends CudaKernel {
    static final String ENTRY_AVG = "global_pool_avg";
    static final String ENTRY_MAX = "global_pool_max";

    CudaGlobalPool2d(CudaDevice device, GlobalPool2d pool, Shape input) {
        super(device, pool, List.of(input));
        use(plan(pool, input));
    }

    static List<CudaLaunch> plan(GlobalPool2d pool, Shape input) {
        String entry = pool.mode() == GlobalPool2d.Mode.AVG ? ENTRY_AVG : ENTRY_MAX;
        long planes = (long) input.n() * input.c();
        return List.of(CudaLaunch.of(CudaPool2d.MODULE, entry, new long[] {planes * CudaPool2d.GLOBAL_WG},
                new long[] {CudaPool2d.GLOBAL_WG}).input(0).output().ints(input.h() * input.w()).build());
    }
}
