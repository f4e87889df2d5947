package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.BatchNorm;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * batchnorm (inference) on OpenCL: {@code kernels/batchnorm/batchnorm.cl}. Planes of at least
 * {@link #WG} elements run {@code batchnorm_planes} (a 2-D grid, one channel per row of
 * work-groups); smaller planes, a rank-2 input's included, run {@code batchnorm_flat} over all
 * elements, so that work-groups are not mostly idle.
 */
final class ClBatchNorm extends ClKernel {
    static final String SOURCE = "batchnorm/batchnorm.cl";
    /** Work-group size of both entries. */
    static final int WG = 256;
    /** Elements per work-item, about: the grid is sized for it, the kernels loop over the rest. */
    static final int PER_ITEM = 8;

    private final String entry;
    private final cl_kernel kernel;
    private final long[] global;
    private final long[] local;

    ClBatchNorm(ClDevice device, BatchNorm bn, Shape input) {
        super(device, bn, List.of(input));
        long count = input.elementCount();
        int c = bn.channels(input);
        int planes = input.dim(0) * c;
        int inner = (int) (count / planes);
        boolean byPlane = inner >= WG;
        this.entry = byPlane ? "batchnorm_planes" : "batchnorm_flat";
        this.kernel = kernel(SOURCE, Map.of("BATCHNORM_WG", WG, "BATCHNORM_PER_ITEM", PER_ITEM), entry);
        ClDevice.setArg(kernel, 6, c);
        ClDevice.setArg(kernel, 7, inner);
        if (byPlane) {
            ClDevice.setArg(kernel, 8, bn.epsilon());
            this.global = new long[] {groups(inner) * WG, planes};
            this.local = new long[] {WG, 1};
        } else {
            ClDevice.setArg(kernel, 8, (int) count);
            ClDevice.setArg(kernel, 9, bn.epsilon());
            this.global = new long[] {groups(count) * WG};
            this.local = new long[] {WG};
        }
    }

    /** Work-groups for {@code elements}, about {@link #PER_ITEM} per work-item, at least one. */
    private static long groups(long elements) {
        return Math.max(1, (elements + (long) WG * PER_ITEM - 1) / ((long) WG * PER_ITEM));
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        for (int i = 0; i < 5; i++) {
            ClDevice.setArg(kernel, i, args.get(i));
        }
        ClDevice.setArg(kernel, 5, output);
        cl.launch(kernel, entry + " " + describe(), global, local);
    }
}
