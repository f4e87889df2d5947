package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.Pool2d;
import org.convkit.tensor.Shape;

/**
 * maxpool2d and avgpool2d on CUDA: {@code kernels/pool2d/pool2d.cu}, entries {@code pool2d_max}
 * and {@code pool2d_avg}, launched as {@code ClPool2d} launches its OpenCL twin. The global pools
 * ({@link CudaGlobalPool2d}) share the module.
 */
final class CudaPool2d extends CudaKernel {
    static final String MODULE = "pool2d/pool2d";
    static final String ENTRY_MAX = "pool2d_max";
    static final String ENTRY_AVG = "pool2d_avg";
    /** Block tile in output pixels (width x height): pool2d.cl's defaults. */
    static final int TILE_W = 16;
    static final int TILE_H = 4;
    /** Block of the global pools, one per plane (pool2d.cl's default). */
    static final int GLOBAL_WG = 64;

    CudaPool2d(CudaDevice device, Pool2d pool, Shape input) {
        super(device, pool, List.of(input));
        Pool2d.Geometry g = pool.geometry(input);
        // The kernel forms row and column indices of padded and overhanging taps in 32 bits too.
        long rowsSpan = (long) g.h() + g.padTop() + g.padBottom() + (long) (g.kh() - 1) * g.dh() + (long) g.sh();
        long colsSpan = (long) g.w() + g.padLeft() + g.padRight() + (long) (g.kw() - 1) * g.dw() + (long) g.sw();
        if (input.elementCount() + rowsSpan * colsSpan > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(cuda.name() + " " + describe() + ": padded window coordinates ("
                    + rowsSpan + "x" + colsSpan + ") overflow this kernel's 32-bit indices");
        }
        use(plan(pool, input));
    }

    static List<CudaLaunch> plan(Pool2d pool, Shape input) {
        Pool2d.Geometry g = pool.geometry(input);
        String entry = g.mode() == Pool2d.Mode.MAX ? ENTRY_MAX : ENTRY_AVG;
        long[] global = {roundUp(g.ow(), TILE_W), roundUp(g.oh(), TILE_H), (long) g.n() * g.c()};
        return List.of(CudaLaunch.of(MODULE, entry, global, new long[] {TILE_W, TILE_H, 1})
                .input(0).output()
                .ints(g.h(), g.w(), g.oh(), g.ow(), g.kh(), g.kw(), g.sh(), g.sw(), g.dh(), g.dw(), g.padTop(),
                        g.padLeft(), g.padBottom(), g.padRight(), g.countIncludePad() ? 1 : 0)
                .build());
    }
}
