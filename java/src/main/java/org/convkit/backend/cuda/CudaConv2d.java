package org.convkit.backend.cuda;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.convkit.backend.plan.Conv2dPlan;
import org.convkit.backend.plan.Conv2dTuning;
import org.convkit.ops.Conv2d;
import org.convkit.tensor.Shape;

/**
 * conv2d on CUDA: {@code kernels/conv2d/conv2d.cu}. The entry, tile shape, grid and block are
 * {@link Conv2dPlan#of}'s for {@link #TUNING}, the generic-GPU data, exactly as {@code ClConv2d}
 * launches conv2d.cl on a GPU with those limits: {@code conv2d_depthwise}, {@code conv2d_1x1},
 * the implicit GEMM {@code conv2d_tiled} or the direct {@code conv2d_fwd}. The .cu is built with
 * that table's first tile shape and, as PTX variants, its other shapes; a plan that picks another
 * shape loads that shape's module ({@link CudaLaunch#ptxModule()}). Sizes are arguments, so one
 * module per tile shape serves every convolution.
 */
final class CudaConv2d extends CudaKernel {
    static final String MODULE = "conv2d/conv2d";
    /** The tuning data conv2d.cu is built with (its defaults and its ptx-variant lines). */
    static final Conv2dTuning TUNING = Conv2dTuning.GPU;

    CudaConv2d(CudaDevice device, Conv2d conv, Shape input) {
        this(device, conv, input, device.conv2dLimits());
    }

    /** Planned for other limits than the device's own (tests reach every tile shape's module on one GPU). */
    CudaConv2d(CudaDevice device, Conv2d conv, Shape input, Conv2dPlan.Limits limits) {
        super(device, conv, List.of(input));
        use(plan(conv, input, limits));
    }

    /** The launch for a convolution on a device with these limits. */
    static List<CudaLaunch> plan(Conv2d conv, Shape input, Conv2dPlan.Limits limits) {
        Conv2d.Geometry g = conv.geometry(input);
        Conv2dPlan p = Conv2dPlan.of(g, TUNING, limits);
        return List.of(CudaLaunch.of(MODULE, p.path().entry(), p.global(), p.local())
                .defines(variant(p.defines()))
                .input(0).input(1).inputOrNone(g.bias(), 2).output()
                .ints(g.n(), g.c(), g.h(), g.w(), g.oc(), g.oh(), g.ow(), g.kh(), g.kw(), g.sh(), g.sw(), g.dh(),
                        g.dw(), g.padTop(), g.padLeft(), g.groups(), g.activation().code())
                .build());
    }

    /** The macros of a plan that differ from the .cu's defaults (the first tile shape's values): its PTX variant. */
    static Map<String, Integer> variant(Map<String, Integer> defines) {
        Map<String, Integer> defaults = TUNING.defines(TUNING.tiled().shapes().get(0));
        Map<String, Integer> out = new TreeMap<>();
        defines.forEach((k, v) -> {
            if (!v.equals(defaults.get(k))) {
                out.put(k, v);
            }
        });
        return out;
    }
}
