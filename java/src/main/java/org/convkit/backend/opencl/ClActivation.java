package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.ops.ActivationOp;
import org.convkit.tensor.Shape;
import org.jocl.CL;
import org.jocl.cl_kernel;

/**
 * Standalone activations on OpenCL: {@code kernels/activation/activation.cl}, entry
 * {@code activation_fwd}, one work-item per element; the kind and its two parameters are kernel
 * arguments, so one program serves every activation and shape.
 */
final class ClActivation extends Kernel {
    static final String SOURCE = "activation/activation.cl";
    static final String ENTRY = "activation_fwd";
    /** Work-group size (the kernel's {@code reqd_work_group_size}). */
    static final int WG = 256;
    /** Build defines of the program, shared with {@link ClPRelu} (one program for both entries). */
    static final Map<String, Integer> DEFINES = Map.of("ACTIVATION_WG", WG, "PRELU_WG", ClPRelu.WG);

    private final ClDevice cl;
    private final cl_kernel kernel;
    private final long[] global;

    ClActivation(ClDevice device, ActivationOp op, Shape input) {
        super(device, op, List.of(input));
        this.cl = device;
        int count = intIndexable(device, describe(), input);
        requireGroup(device, "activation", WG);
        this.kernel = device.kernel(device.program(SOURCE, DEFINES), ENTRY);
        ClDevice.setArg(kernel, 2, count);
        ClDevice.setArg(kernel, 3, op.kind().code());
        ClDevice.setArg(kernel, 4, op.alpha());
        ClDevice.setArg(kernel, 5, op.beta());
        this.global = new long[] {roundUp(count, WG)};
    }

    /** The element count of {@code s}, refusing shapes a 32-bit index cannot address. */
    static int intIndexable(ClDevice device, String what, Shape s) {
        if (s.elementCount() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(device.name() + " " + what + ": tensor " + s + " has " + s.elementCount()
                    + " elements; this kernel indexes with 32-bit integers (at most 2^31 - 1)");
        }
        return (int) s.elementCount();
    }

    /** Refuses a work-group size the device cannot run. */
    static void requireGroup(ClDevice device, String op, long size) {
        if (size > device.maxWorkGroupSize()) {
            throw new IllegalStateException(device.name() + ": " + op + " work-group of " + size
                    + " exceeds the device's maximum of " + device.maxWorkGroupSize());
        }
    }

    static long roundUp(long v, long m) {
        return (v + m - 1) / m * m;
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, output);
        cl.launch(kernel, ENTRY + " " + describe(), global, new long[] {WG});
    }

    @Override
    public void close() {
        CL.clReleaseKernel(kernel);
    }
}
