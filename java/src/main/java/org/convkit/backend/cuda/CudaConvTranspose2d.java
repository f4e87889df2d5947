package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.ConvTranspose2d;
import org.convkit.tensor.Shape;

/**
 * conv_transpose2d on CUDA: {@code kernels/conv_transpose2d/conv_transpose2d.cu}, entry
 * {@code conv_transpose2d_fwd} (the gather formulation, outputs ordered by stride phase),
 * launched as {@code ClConvTranspose2d} launches its OpenCL twin.
 */
final class CudaConvTranspose2d extends CudaKernel {
    static final String MODULE = "conv_transpose2d/conv_transpose2d";
    static final String ENTRY = "conv_transpose2d_fwd";
    /** Block tile in output pixels (width x height): conv_transpose2d.cl's defaults. */
    static final int TILE_W = 8;
    static final int TILE_H = 8;

    CudaConvTranspose2d(CudaDevice device, ConvTranspose2d op, Shape input) {
        super(device, op, List.of(input));
        use(plan(op, input));
    }

    static List<CudaLaunch> plan(ConvTranspose2d op, Shape input) {
        ConvTranspose2d.Geometry g = op.geometry(input);
        // Outputs ordered by stride phase, each phase rounded up to whole tiles (see the kernel's header).
        int jh = (int) roundUp(Math.ceilDiv(g.oh(), g.sh()), TILE_H);
        int jw = (int) roundUp(Math.ceilDiv(g.ow(), g.sw()), TILE_W);
        long[] global = {(long) g.sw() * jw, (long) g.sh() * jh, (long) g.n() * g.oc()};
        return List.of(CudaLaunch.of(MODULE, ENTRY, global, new long[] {TILE_W, TILE_H, 1})
                .input(0).input(1).inputOrNone(g.bias(), 2).output()
                .ints(g.n(), g.c(), g.h(), g.w(), g.oc(), g.oh(), g.ow(), g.kh(), g.kw(), g.sh(), g.sw(), g.dh(),
                        g.dw(), g.padTop(), g.padLeft(), g.groups(), g.activation().code(), jh, jw)
                .build());
    }
}
