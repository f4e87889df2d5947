package org.convkit.backend.opencl;

import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.PRelu;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * PReLU on OpenCL: {@code kernels/activation/activation.cl}, entry {@code prelu_fwd}, on a 2-D
 * grid: the innermost broadcast group along dimension 0, the rest (rows) along dimension 1. The
 * slope's broadcast goes in as up to 8 (size, stride) groups ({@link PRelu.Broadcast}), unused
 * ones as size 1, stride 0; a slope without groups (one value) as a single group of every
 * element with stride 0.
 */
final class ClPRelu extends ClKernel {
    static final String ENTRY = "prelu_fwd";
    /** Work-group along the innermost group (the kernel's {@code reqd_work_group_size}). */
    static final int WG = 64;
    private static final int MAX_GROUPS = 8;

    private final cl_kernel kernel;
    private final long[] global;

    ClPRelu(ClDevice device, PRelu op, Shape input) {
        super(device, op, List.of(input));
        int count = (int) input.elementCount();
        requireWorkGroup(WG);
        PRelu.Broadcast b = op.broadcast(input);
        int[] dims = b.dims().length == 0 ? new int[] {count} : b.dims();
        int[] strides = b.dims().length == 0 ? new int[] {0} : b.strides();
        if (dims.length > MAX_GROUPS) {
            // A rank-8 shape alternates at most 8 times; this guards the invariant, it is not a limit users meet.
            throw new IllegalStateException(device.name() + " " + describe() + ": " + dims.length
                    + " broadcast groups, the kernel takes " + MAX_GROUPS);
        }
        this.kernel = kernel(ClActivation.SOURCE, ClActivation.DEFINES, ENTRY);
        ClDevice.setArg(kernel, 3, dims.length);
        for (int k = 0; k < MAX_GROUPS; k++) {
            boolean used = k < dims.length;
            ClDevice.setArg(kernel, 4 + k, used ? dims[k] : 1);
            ClDevice.setArg(kernel, 4 + MAX_GROUPS + k, used ? strides[k] : 0);
        }
        this.global = new long[] {roundUp(dims[0], WG), count / dims[0]};
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, args.get(1));
        ClDevice.setArg(kernel, 2, output);
        cl.launch(kernel, ENTRY + " " + describe(), global, new long[] {WG, 1});
    }
}
