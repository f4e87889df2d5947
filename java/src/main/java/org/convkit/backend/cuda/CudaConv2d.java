package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.Conv2d;
import org.convkit.tensor.Shape;

/**
 * conv2d on CUDA: {@code kernels/conv2d/conv2d.cu}, entry {@code conv2d_fwd}, launched as
 * {@code ClConv2d} launches its OpenCL twin: a block per tile of output pixels, sizes as
 * arguments (one module serves every shape).
 */
final class CudaConv2d extends CudaKernel {
    static final String MODULE = "conv2d/conv2d";
    static final String ENTRY = "conv2d_fwd";
    /** Block tile in output pixels (width x height): conv2d.cl's defaults. */
    static final int TILE_W = 16;
    static final int TILE_H = 4;

    CudaConv2d(CudaDevice device, Conv2d conv, Shape input) {
        super(device, conv, List.of(input));
        use(plan(conv, input));
    }

    static List<CudaLaunch> plan(Conv2d conv, Shape input) {
        Conv2d.Geometry g = conv.geometry(input);
        long[] global = {roundUp(g.ow(), TILE_W), roundUp(g.oh(), TILE_H), (long) g.n() * g.oc()};
        return List.of(CudaLaunch.of(MODULE, ENTRY, global, new long[] {TILE_W, TILE_H, 1})
                .input(0).input(1).inputOrNone(g.bias(), 2).output()
                .ints(g.n(), g.c(), g.h(), g.w(), g.oc(), g.oh(), g.ow(), g.kh(), g.kw(), g.sh(), g.sw(), g.dh(),
                        g.dw(), g.padTop(), g.padLeft(), g.groups(), g.activation().code())
                .build());
    }
}
