package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.train.Accumulate;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/** {@code y += x} on OpenCL: {@code kernels/accumulate/accumulate.cl}, one work-item per element. */
final class ClAccumulate extends ClKernel {
    static final String SOURCE = "accumulate/accumulate.cl";
    static final String ENTRY = "accumulate";
    /** Work-group size (the .cl's default). */
    static final int WG = 256;

    private final cl_kernel kernel;
    private final long[] global;

    ClAccumulate(ClDevice device, Accumulate op, Shape input) {
        super(device, op, List.of(input));
        requireWorkGroup(WG);
        this.kernel = kernel(SOURCE, Map.of("ACCUMULATE_WG", WG), ENTRY);
        ClDevice.setArg(kernel, 2, (int) input.elementCount());
        this.global = new long[] {roundUp(input.elementCount(), WG)};
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, output);
        cl.launch(kernel, ENTRY + " " + describe(), global, new long[] {WG});
    }
}
