package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.SoftmaxCrossEntropy;
import org.convkit.ops.grad.SoftmaxCrossEntropyGrad;
import org.convkit.tensor.Shape;

/**
 * The gradient of the mean softmax cross-entropy loss on CUDA:
 * {@code kernels/softmax_cross_entropy/softmax_cross_entropy.cu}, entry
 * {@code softmax_cross_entropy_bwd}, one thread per position, as
 * {@code ClSoftmaxCrossEntropyGrad} launches its OpenCL twin.
 */
final class CudaSoftmaxCrossEntropyGrad extends CudaKernel {
    static final String ENTRY = "softmax_cross_entropy_bwd";

    CudaSoftmaxCrossEntropyGrad(CudaDevice device, SoftmaxCrossEntropyGrad op, List<Shape> inputs) {
        super(device, op, inputs);
        use(plan(op, inputs));
    }

    static List<CudaLaunch> plan(SoftmaxCrossEntropyGrad op, List<Shape> inputs) {
        SoftmaxCrossEntropy.Geometry g = SoftmaxCrossEntropy.geometry(op.name(), inputs.get(0), inputs.get(1));
        int wg = CudaSoftmaxCrossEntropy.WG;
        return List.of(CudaLaunch.of(CudaSoftmaxCrossEntropy.MODULE, ENTRY, new long[] {roundUp(g.rows(), wg)},
                new long[] {wg}).input(0).input(1).output().ints((int) g.rows(), g.classes(), (int) g.inner())
                .f32(SoftmaxCrossEntropyGrad.scale(inputs.get(0))).build());
    }
}
