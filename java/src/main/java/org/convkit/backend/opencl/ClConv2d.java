package org.convkit.backend.opencl;

import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.plan.Conv2dPlan;
import org.convkit.backend.plan.Conv2dTuning;
import org.convkit.ops.Conv2d;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * conv2d on OpenCL: {@code kernels/conv2d/conv2d.cl}. The entry is chosen per shape by
 * {@link Conv2dPlan#of} (which the CUDA host calls too): depthwise convolutions take
 * {@code conv2d_depthwise}, 1x1 stride-1 unpadded ones {@code conv2d_1x1}, the rest the implicit
 * GEMM {@code conv2d_tiled}, each as long as its tiles are not mostly padding for the shape, and
 * {@code conv2d_fwd} (direct, correct for everything) otherwise. The tile sizes are build macros
 * whose values are per-device data ({@link Conv2dTuning}); sizes are kernel arguments, so one
 * program per device and tile shape serves every convolution, and the launch's local size always
 * matches the entries' {@code reqd_work_group_size}.
 */
final class ClConv2d extends ClKernel {
    static final String SOURCE = "conv2d/conv2d.cl";
    /** The direct kernel's entry. */
    static final String ENTRY = Conv2dPlan.Path.DIRECT.entry();
    /** conv2d_fwd's work-group tile in output pixels (width x height). */
    static final int TILE_W = Conv2dPlan.TILE_W;
    static final int TILE_H = Conv2dPlan.TILE_H;

    private final Conv2d.Geometry g;
    private final Conv2dPlan plan;
    private final cl_kernel kernel;

    ClConv2d(ClDevice device, Conv2d conv, Shape input) {
        this(device, conv, input, device.conv2dTuning());
    }

    /** With other tuning data than the device's own (tests run the GPU values through a CPU driver). */
    ClConv2d(ClDevice device, Conv2d conv, Shape input, Conv2dTuning tuning) {
        super(device, conv, List.of(input));
        this.g = conv.geometry(input);
        this.plan = Conv2dPlan.of(g, tuning, limits(device));
        requireWorkGroup(plan.workGroupSize());
        this.kernel = kernel(SOURCE, plan.defines(), plan.path().entry());
        int[] sizes = {g.n(), g.c(), g.h(), g.w(), g.oc(), g.oh(), g.ow(), g.kh(), g.kw(), g.sh(), g.sw(), g.dh(),
                g.dw(), g.padTop(), g.padLeft(), g.groups(), g.activation().code()};
        for (int i = 0; i < sizes.length; i++) {
            ClDevice.setArg(kernel, 4 + i, sizes[i]);
        }
    }

    /** What the device allows a conv2d launch: its largest work-group, local memory and compute units. */
    static Conv2dPlan.Limits limits(ClDevice device) {
        return new Conv2dPlan.Limits(device.maxWorkGroupSize(), device.localMemoryBytes(), device.info().computeUnits());
    }

    /** The entry this kernel launches. */
    Conv2dPlan.Path path() {
        return plan.path();
    }

    /** The launch this kernel makes. */
    Conv2dPlan plan() {
        return plan;
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, args.get(1));
        ClDevice.setArg(kernel, 2, g.bias() ? args.get(2) : null);
        ClDevice.setArg(kernel, 3, output);
        cl.launch(kernel, plan.path().entry() + " " + describe(), plan.global(), plan.local());
    }
}
