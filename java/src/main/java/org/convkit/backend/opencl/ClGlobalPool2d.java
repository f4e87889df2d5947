package org.convkit.backend.opencl;

import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.GlobalPool2d;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * globalavgpool2d and globalmaxpool2d on OpenCL: {@code kernels/pool2d/pool2d.cl}, entries
 * {@code global_pool_avg} and {@code global_pool_max}. One work-group of
 * {@link ClPool2d#GLOBAL_WG} work-items per {@code (n, c)} plane, reducing in local memory; the
 * program is the one {@link ClPool2d} builds (same defines).
 */
final class ClGlobalPool2d extends ClKernel {
    static final String ENTRY_AVG = "global_pool_avg";
    static final String ENTRY_MAX = "global_pool_max";

    private final String entry;
    private final cl_kernel kernel;
    private final long[] global;
    private final long[] local;

    ClGlobalPool2d(ClDevice device, GlobalPool2d pool, Shape input) {
        super(device, pool, List.of(input));
        requireWorkGroup(ClPool2d.GLOBAL_WG);
        this.entry = pool.mode() == GlobalPool2d.Mode.AVG ? ENTRY_AVG : ENTRY_MAX;
        this.kernel = kernel(ClPool2d.SOURCE, ClPool2d.DEFINES, entry);
        ClDevice.setArg(kernel, 2, input.h() * input.w());
        long planes = (long) input.n() * input.c();
        this.global = new long[] {planes * ClPool2d.GLOBAL_WG};
        this.local = new long[] {ClPool2d.GLOBAL_WG};
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, output);
        cl.launch(kernel, entry + " " + describe(), global, local);
    }
}
