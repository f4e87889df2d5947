package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.SoftmaxCrossEntropy;
import org.convkit.ops.grad.SoftmaxCrossEntropyGrad;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * The gradient of the mean softmax cross-entropy loss on OpenCL:
 * {@code kernels/softmax_cross_entropy/softmax_cross_entropy.cl}, entry
 * {@code softmax_cross_entropy_bwd}, one work-item per position, scaled by
 * {@link SoftmaxCrossEntropyGrad#scale}.
 */
final class ClSoftmaxCrossEntropyGrad extends ClKernel {
    static final String ENTRY = "softmax_cross_entropy_bwd";

    private final cl_kernel kernel;
    private final long[] global;

    ClSoftmaxCrossEntropyGrad(ClDevice device, SoftmaxCrossEntropyGrad op, List<Shape> inputs) {
        super(device, op, inputs);
        SoftmaxCrossEntropy.Geometry g = SoftmaxCrossEntropy.geometry(op.name(), inputs.get(0), inputs.get(1));
        requireWorkGroup(ClSoftmaxCrossEntropy.WG);
        this.kernel = kernel(ClSoftmaxCrossEntropy.SOURCE, Map.of("SCE_WG", ClSoftmaxCrossEntropy.WG), ENTRY);
        ClDevice.setArg(kernel, 3, (int) g.rows());
        ClDevice.setArg(kernel, 4, g.classes());
        ClDevice.setArg(kernel, 5, (int) g.inner());
        ClDevice.setArg(kernel, 6, SoftmaxCrossEntropyGrad.scale(inputs.get(0)));
        this.global = new long[] {roundUp(g.rows(), ClSoftmaxCrossEntropy.WG)};
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, args.get(1));
        ClDevice.setArg(kernel, 2, output);
        cl.launch(kernel, ENTRY + " " + describe(), global, new long[] {ClSoftmaxCrossEntropy.WG});
    }
}
