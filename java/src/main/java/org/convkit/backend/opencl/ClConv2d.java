package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Conv2d;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * conv2d on OpenCL: {@code kernels/conv2d/conv2d.cl}, entry {@code conv2d_fwd}. Sizes are kernel
 * arguments (one program serves every shape); the tile of output pixels per work-group is a
 * build-time macro, so that the launch's local size and the kernel's
 * {@code reqd_work_group_size} always agree.
 */
final class ClConv2d extends ClKernel {
    static final String SOURCE = "conv2d/conv2d.cl";
    static final String ENTRY = "conv2d_fwd";
    /** Work-group tile in output pixels (width x height); both compute units get many groups. */
    static final int TILE_W = 16;
    static final int TILE_H = 4;

    private final Conv2d.Geometry g;
    private final cl_kernel kernel;
    private final long[] global;
    private final long[] local;

    ClConv2d(ClDevice device, Conv2d conv, Shape input) {
        super(device, conv, List.of(input));
        this.g = conv.geometry(input);
        requireWorkGroup(TILE_W * TILE_H);
        this.kernel = kernel(SOURCE, Map.of("CONV2D_TILE_W", TILE_W, "CONV2D_TILE_H", TILE_H), ENTRY);
        int[] sizes = {g.n(), g.c(), g.h(), g.w(), g.oc(), g.oh(), g.ow(), g.kh(), g.kw(), g.sh(), g.sw(), g.dh(),
                g.dw(), g.padTop(), g.padLeft(), g.groups(), g.activation().code()};
        for (int i = 0; i < sizes.length; i++) {
            ClDevice.setArg(kernel, 4 + i, sizes[i]);
        }
        this.global = new long[] {roundUp(g.ow(), TILE_W), roundUp(g.oh(), TILE_H), (long) g.n() * g.oc()};
        this.local = new long[] {TILE_W, TILE_H, 1};
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, args.get(1));
        ClDevice.setArg(kernel, 2, g.bias() ? args.get(2) : null);
        ClDevice.setArg(kernel, 3, output);
        cl.launch(kernel, ENTRY + " " + describe(), global, local);
    }
}
