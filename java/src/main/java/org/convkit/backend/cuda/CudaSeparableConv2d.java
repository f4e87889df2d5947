package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.Conv2d;
import org.convkit.ops.SeparableConv2d;
import org.convkit.tensor.Shape;

/**
 * sepconv2d on CUDA: {@code kernels/sepconv2d/sepconv2d.cu}, entry {@code sepconv2d_fwd}, fused,
 * launched as {@code ClSeparableConv2d} launches its OpenCL twin.
 */
final class CudaSeparableConv2d extends CudaKernel {
    static final String MODULE = "sepconv2d/sepconv2d";
    static final String ENTRY = "sepconv2d_fwd";
    /** Pixels, output-channel lanes, channels per lane (sepconv2d.cl's defaults). */
    static final int TP = 16;
    static final int TO = 16;
    static final int OCB = 4;

    CudaSeparableConv2d(CudaDevice device, SeparableConv2d op, List<Shape> inputs) {
        super(device, op, inputs);
        use(plan(op, inputs));
    }

    static List<CudaLaunch> plan(SeparableConv2d op, List<Shape> inputs) {
        Shape in = inputs.get(0);
        Conv2d.Geometry g = op.depthwise(in).geometry(in);
        long pixels = (long) g.oh() * g.ow();
        long ocBlocks = (op.outChannels() + (long) TO * OCB - 1) / ((long) TO * OCB);
        long[] global = {roundUp(pixels, TP), ocBlocks * TO, g.n()};
        // Arguments: x, depthwise weight, its bias or null, pointwise weight, its bias or null.
        int pointwise = op.hasDepthwiseBias() ? 3 : 2;
        return List.of(CudaLaunch.of(MODULE, ENTRY, global, new long[] {TP, TO, 1})
                .input(0).input(1).inputOrNone(op.hasDepthwiseBias(), 2).input(pointwise)
                .inputOrNone(op.hasPointwiseBias(), pointwise + 1).output()
                .ints(g.c(), g.h(), g.w(), op.multiplier(), op.outChannels(), g.oh(), g.ow(), g.kh(), g.kw(), g.sh(),
                        g.sw(), g.dh(), g.dw(), g.padTop(), g.padLeft(), g.activation().code(),
                        op.pointwise().activation().code())
                .build());
    }
}
