package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Op;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * The kernel of the ops whose output is their input's elements in the same order under other
 * dimensions ({@link ClFlatten}, {@link ClReshape}): a device-to-device copy with
 * {@code kernels/copy/copy.cl}, entry {@code copy_f32}.
 */
abstract class ClCopy extends ClKernel {
    static final String SOURCE = "copy/copy.cl";
    static final String ENTRY = "copy_f32";
    /** Work-group size. */
    static final int WG = 256;
    /** At most this many work-groups; each work-item loops over the rest (grid-stride). */
    static final int MAX_GROUPS = 2048;

    private final cl_kernel kernel;
    private final long[] global;

    ClCopy(ClDevice device, Op op, Shape input) {
        super(device, op, List.of(input));
        long count = input.elementCount();
        this.kernel = kernel(SOURCE, Map.of("COPY_WG", WG), ENTRY);
        ClDevice.setArg(kernel, 2, (int) count);
        this.global = new long[] {Math.min((count + WG - 1) / WG, MAX_GROUPS) * WG};
    }

    @Override
    protected final void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, output);
        cl.launch(kernel, ENTRY + " " + describe(), global, new long[] {WG});
    }
}
