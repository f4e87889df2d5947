package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.SoftmaxCrossEntropy;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * The softmax cross-entropy loss on OpenCL: {@code kernels/softmax_cross_entropy/softmax_cross_entropy.cl},
 * entry {@code softmax_cross_entropy_fwd}, one work-item per position.
 */
final class ClSoftmaxCrossEntropy extends ClKernel {
    static final String SOURCE = "softmax_cross_entropy/softmax_cross_entropy.cl";
    static final String ENTRY = "softmax_cross_entropy_fwd";
    /** Work-group size (the .cl's default). */
    static final int WG = 64;

    private final cl_kernel kernel;
    private final long[] global;

    ClSoftmaxCrossEntropy(ClDevice device, SoftmaxCrossEntropy op, List<Shape> inputs) {
        super(device, op, inputs);
        SoftmaxCrossEntropy.Geometry g = SoftmaxCrossEntropy.geometry(op.name(), inputs.get(0), inputs.get(1));
        requireWorkGroup(WG);
        this.kernel = kernel(SOURCE, Map.of("SCE_WG", WG), ENTRY);
        ClDevice.setArg(kernel, 3, (int) g.rows());
        ClDevice.setArg(kernel, 4, g.classes());
        ClDevice.setArg(kernel, 5, (int) g.inner());
        this.global = new long[] {roundUp(g.rows(), WG)};
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, args.get(1));
        ClDevice.setArg(kernel, 2, output);
        cl.launch(kernel, ENTRY + " " + describe(), global, new long[] {WG});
    }
}
