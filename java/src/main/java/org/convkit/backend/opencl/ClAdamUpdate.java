package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.train.AdamUpdate;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * An Adam step on OpenCL: {@code kernels/optimizer/optimizer.cl}, entry {@code adam_update}, one
 * work-item per element. Arguments: gradient, first and second moment, step scalars, parameter.
 */
final class ClAdamUpdate extends ClKernel {
    static final String ENTRY = "adam_update";

    private final cl_kernel kernel;
    private final long[] global;

    ClAdamUpdate(ClDevice device, AdamUpdate op, List<Shape> inputs) {
        super(device, op, inputs);
        requireWorkGroup(ClSgdUpdate.WG);
        this.kernel = kernel(ClSgdUpdate.SOURCE, Map.of("OPTIMIZER_WG", ClSgdUpdate.WG), ENTRY);
        int count = (int) inputs.get(0).elementCount();
        ClDevice.setArg(kernel, 5, count);
        ClDevice.setArg(kernel, 6, op.beta1());
        ClDevice.setArg(kernel, 7, op.beta2());
        ClDevice.setArg(kernel, 8, op.epsilon());
        this.global = new long[] {roundUp(count, ClSgdUpdate.WG)};
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        for (int i = 0; i < 4; i++) {
            ClDevice.setArg(kernel, i, args.get(i));
        }
        ClDevice.setArg(kernel, 4, output);
        cl.launch(kernel, ENTRY + " " + describe(), global, new long[] {ClSgdUpdate.WG});
    }
}
