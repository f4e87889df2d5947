package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.Upsample;
import org.convkit.tensor.Shape;

/**
 * upsample on CUDA: {@code kernels/upsample/upsample.cu}, entry {@code upsample_nearest_fwd} or
 * {@code upsample_bilinear_fwd}, launched as {@code ClUpsample} launches its OpenCL twin: the
 * exact coordinate transforms of {@link Upsample.Geometry} go in as 64-bit integers.
 */
final class CudaUpsample extends CudaKernel {
    static final String MODULE = "upsample/upsample";
    static final String NEAREST = "upsample_nearest_fwd";
    static final String BILINEAR = "upsample_bilinear_fwd";
    /** Block tile in output pixels (width x height): upsample.cl's defaults. */
    static final int TILE_W = 16;
    static final int TILE_H = 4;

    CudaUpsample(CudaDevice device, Upsample op, Shape input) {
        super(device, op, List.of(input));
        use(plan(op, input));
    }

    static List<CudaLaunch> plan(Upsample op, Shape input) {
        Upsample.Geometry g = op.geometry(input);
        String entry = g.mode() == Upsample.Mode.NEAREST ? NEAREST : BILINEAR;
        long[] global = {roundUp(g.ow(), TILE_W), roundUp(g.oh(), TILE_H), (long) g.n() * g.c()};
        return List.of(CudaLaunch.of(MODULE, entry, global, new long[] {TILE_W, TILE_H, 1})
                .input(0).output()
                .ints(g.n() * g.c(), g.h(), g.w(), g.oh(), g.ow())
                .longs(g.rows().mul(), g.rows().add(), g.rows().div(), g.cols().mul(), g.cols().add(), g.cols().div())
                .build());
    }
}
