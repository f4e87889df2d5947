package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Upsample;
import org.convkit.tensor.Shape;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;

/**
 * upsample on OpenCL: {@code kernels/upsample/upsample.cl}, entry {@code upsample_nearest_fwd}
 * or {@code upsample_bilinear_fwd}. The exact coordinate transforms of the descriptor's
 * {@link Upsample.Geometry} go in as 64-bit integer arguments; the work-group tile is a build-time
 * macro, so that the launch's local size and {@code reqd_work_group_size} agree.
 */
final class ClUpsample extends ClKernel {
    static final String SOURCE = "upsample/upsample.cl";
    static final String NEAREST = "upsample_nearest_fwd";
    static final String BILINEAR = "upsample_bilinear_fwd";
    /** Work-group tile in output pixels (width x height); both compute units get many groups. */
    static final int TILE_W = 16;
    static final int TILE_H = 4;

    private final String entry;
    private final cl_kernel kernel;
    private final long[] global;
    private final long[] local;

    ClUpsample(ClDevice device, Upsample op, Shape input) {
        super(device, op, List.of(input));
        Upsample.Geometry g = op.geometry(input);
        requireWorkGroup(TILE_W * TILE_H);
        this.entry = g.mode() == Upsample.Mode.NEAREST ? NEAREST : BILINEAR;
        this.kernel = kernel(SOURCE, Map.of("UPSAMPLE_TILE_W", TILE_W, "UPSAMPLE_TILE_H", TILE_H), entry);
        int[] sizes = {g.n() * g.c(), g.h(), g.w(), g.oh(), g.ow()};
        for (int i = 0; i < sizes.length; i++) {
            ClDevice.setArg(kernel, 2 + i, sizes[i]);
        }
        long[] transforms = {g.rows().mul(), g.rows().add(), g.rows().div(), g.cols().mul(), g.cols().add(),
            g.cols().div()};
        for (int i = 0; i < transforms.length; i++) {
            int index = 2 + sizes.length + i;
            Cl.check(CL.clSetKernelArg(kernel, index, Sizeof.cl_long, Pointer.to(new long[] {transforms[i]})),
                    device.name(), "clSetKernelArg", "argument " + index + " = " + transforms[i]);
        }
        this.global = new long[] {roundUp(g.ow(), TILE_W), roundUp(g.oh(), TILE_H), (long) g.n() * g.c()};
        this.local = new long[] {TILE_W, TILE_H, 1};
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, output);
        cl.launch(kernel, entry + " " + describe(), global, local);
    }
}
