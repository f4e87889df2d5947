package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.SoftmaxCrossEntropy;
import org.convkit.tensor.Shape;

/**
 * The softmax cross-entropy loss on CUDA: {@code kernels/softmax_cross_entropy/softmax_cross_entropy.cu},
 * entry {@code softmax_cross_entropy_fwd}, one thread per position, as
 * {@code ClSoftmaxCrossEntropy} launches its OpenCL twin.
 */
final class CudaSoftmaxCrossEntropy extends CudaKernel {
    static final String MODULE = "softmax_cross_entropy/softmax_cross_entropy";
    static final String ENTRY = "softmax_cross_entropy_fwd";
    /** Block size (softmax_cross_entropy.cl's default). */
    static final int WG = 64;

    CudaSoftmaxCrossEntropy(CudaDevice device, SoftmaxCrossEntropy op, List<Shape> inputs) {
        super(device, op, inputs);
        use(plan(op, inputs));
    }

    static List<CudaLaunch> plan(SoftmaxCrossEntropy op, List<Shape> inputs) {
        SoftmaxCrossEntropy.Geometry g = SoftmaxCrossEntropy.geometry(op.name(), inputs.get(0), inputs.get(1));
        return List.of(CudaLaunch.of(MODULE, ENTRY, new long[] {roundUp(g.rows(), WG)}, new long[] {WG})
                .input(0).input(1).output().ints((int) g.rows(), g.classes(), (int) g.inner()).build());
    }
}
