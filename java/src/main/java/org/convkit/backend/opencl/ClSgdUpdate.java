package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.train.SgdUpdate;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * An SGD step on OpenCL: {@code kernels/optimizer/optimizer.cl}, entry {@code sgd_update} or, with
 * momentum, {@code sgd_momentum_update}; one work-item per element. The arguments are the op's
 * inputs in order (gradient, velocity, step scalars), then the parameter.
 */
final class ClSgdUpdate extends ClKernel {
    static final String SOURCE = "optimizer/optimizer.cl";
    /** Work-group size (the .cl's default). */
    static final int WG = 256;

    private final cl_kernel kernel;
    private final String entry;
    private final int arity;
    private final long[] global;

    ClSgdUpdate(ClDevice device, SgdUpdate op, List<Shape> inputs) {
        super(device, op, inputs);
        requireWorkGroup(WG);
        this.entry = op.name();
        this.arity = op.arity();
        this.kernel = kernel(SOURCE, Map.of("OPTIMIZER_WG", WG), entry);
        int count = (int) inputs.get(0).elementCount();
        ClDevice.setArg(kernel, arity + 1, count);
        if (op.hasVelocity()) {
            ClDevice.setArg(kernel, arity + 2, op.momentum());
        }
        this.global = new long[] {roundUp(count, WG)};
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        for (int i = 0; i < arity; i++) {
            ClDevice.setArg(kernel, i, args.get(i));
        }
        ClDevice.setArg(kernel, arity, output);
        cl.launch(kernel, entry + " " + describe(), global, new long[] {WG});
    }
}
