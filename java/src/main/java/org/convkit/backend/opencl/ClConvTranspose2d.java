package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.ConvTranspose2d;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * conv_transpose2d on OpenCL: {@code kernels/conv_transpose2d/conv_transpose2d.cl}, entry
 * {@code conv_transpose2d_fwd} (the gather formulation: one work-item per output element, ordered
 * by stride phase so that a work-group's work-items all visit the same taps).
 * Sizes are kernel arguments (one program serves every shape); the work-group tile is a
 * build-time macro, so that the launch's local size and the kernel's
 * {@code reqd_work_group_size} always agree.
 */
final class ClConvTranspose2d extends ClKernel {
    static final String SOURCE = "conv_transpose2d/conv_transpose2d.cl";
    static final String ENTRY = "conv_transpose2d_fwd";
    /** Work-group tile in output pixels (width x height); both compute units get many groups. */
    static final int TILE_W = 8;
    static final int TILE_H = 8;
    /** Input channels whose taps the kernel loops over together (weight cache reuse). */
    static final int CBLOCK = 8;

    private final ConvTranspose2d.Geometry g;
    private final cl_kernel kernel;
    private final long[] global;
    private final long[] local;

    ClConvTranspose2d(ClDevice device, ConvTranspose2d op, Shape input) {
        super(device, op, List.of(input));
        this.g = op.geometry(input);
        requireWorkGroup(TILE_W * TILE_H);
        this.kernel = kernel(SOURCE,
                Map.of("CONVT2D_TILE_W", TILE_W, "CONVT2D_TILE_H", TILE_H, "CONVT2D_CBLOCK", CBLOCK), ENTRY);
        // Outputs ordered by stride phase, each phase rounded up to whole tiles (see the kernel's header).
        int jh = (int) roundUp(Math.ceilDiv(g.oh(), g.sh()), TILE_H);
        int jw = (int) roundUp(Math.ceilDiv(g.ow(), g.sw()), TILE_W);
        int[] sizes = {g.n(), g.c(), g.h(), g.w(), g.oc(), g.oh(), g.ow(), g.kh(), g.kw(), g.sh(), g.sw(), g.dh(),
                g.dw(), g.padTop(), g.padLeft(), g.groups(), g.activation().code(), jh, jw};
        for (int i = 0; i < sizes.length; i++) {
            ClDevice.setArg(kernel, 4 + i, sizes[i]);
        }
        this.global = new long[] {(long) g.sw() * jw, (long) g.sh() * jh, (long) g.n() * g.oc()};
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
