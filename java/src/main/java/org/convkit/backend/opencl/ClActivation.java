package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.ActivationOp;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * Standalone activations on OpenCL: {@code kernels/activation/activation.cl}, entry
 * {@code activation_fwd}, one work-item per element; the kind and its two parameters are kernel
 * arguments, so one program serves every activation and shape.
 */
final class ClActivation extends ClKernel {
    static final String SOURCE = "activation/activation.cl";
    static final String ENTRY = "activation_fwd";
    /** Work-group size (the kernel's {@code reqd_work_group_size}). */
    static final int WG = 256;
    /** Build defines of the program, shared with {@link ClPRelu} (one program for both entries). */
    static final Map<String, Integer> DEFINES = Map.of("ACTIVATION_WG", WG, "PRELU_WG", ClPRelu.WG);

    private final cl_kernel kernel;
    private final long[] global;

    ClActivation(ClDevice device, ActivationOp op, Shape input) {
        super(device, op, List.of(input));
        int count = (int) input.elementCount();
        requireWorkGroup(WG);
        this.kernel = kernel(SOURCE, DEFINES, ENTRY);
        ClDevice.setArg(kernel, 2, count);
        ClDevice.setArg(kernel, 3, op.kind().code());
        ClDevice.setArg(kernel, 4, op.alpha());
        ClDevice.setArg(kernel, 5, op.beta());
        this.global = new long[] {roundUp(count, WG)};
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, output);
        cl.launch(kernel, ENTRY + " " + describe(), global, new long[] {WG});
    }
}
