package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.ops.PRelu;
import org.convkit.tensor.Shape;
import org.jocl.CL;
import org.jocl.cl_kernel;

/**
 * PReLU on OpenCL: {@code kernels/activation/activation.cl}, entry {@code prelu_fwd}, one
 * work-item per element. The slope's broadcast goes in as up to 8 (size, stride) groups
 * ({@link PRelu.Broadcast}), unused ones as size 1, stride 0.
 */
final class ClPRelu extends Kernel {
    static final String ENTRY = "prelu_fwd";
    private static final int MAX_GROUPS = 8;

    private final ClDevice cl;
    private final cl_kernel kernel;
    private final long[] global;

    ClPRelu(ClDevice device, PRelu op, Shape input) {
        super(device, op, List.of(input));
        this.cl = device;
        int count = ClActivation.intIndexable(device, describe(), input);
        ClActivation.intIndexable(device, describe(), op.slopeShape());
        ClActivation.requireGroup(device, "prelu", ClActivation.WG);
        PRelu.Broadcast b = op.broadcast(input);
        if (b.dims().length > MAX_GROUPS) {
            // A rank-8 shape alternates at most 8 times; this guards the invariant, it is not a limit users meet.
            throw new IllegalStateException(device.name() + " " + describe() + ": " + b.dims().length
                    + " broadcast groups, the kernel takes " + MAX_GROUPS);
        }
        this.kernel = device.kernel(device.program(ClActivation.SOURCE, Map.of("ACTIVATION_WG", ClActivation.WG)), ENTRY);
        ClDevice.setArg(kernel, 3, count);
        ClDevice.setArg(kernel, 4, b.dims().length);
        for (int k = 0; k < MAX_GROUPS; k++) {
            boolean used = k < b.dims().length;
            ClDevice.setArg(kernel, 5 + k, used ? b.dims()[k] : 1);
            ClDevice.setArg(kernel, 5 + MAX_GROUPS + k, used ? b.strides()[k] : 0);
        }
        this.global = new long[] {ClActivation.roundUp(count, ClActivation.WG)};
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, args.get(1));
        ClDevice.setArg(kernel, 2, output);
        cl.launch(kernel, ENTRY + " " + describe(), global, new long[] {ClActivation.WG});
    }

    @Override
    public void close() {
        CL.clReleaseKernel(kernel);
    }
}
