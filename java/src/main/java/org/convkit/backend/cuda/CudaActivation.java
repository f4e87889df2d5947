package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.ActivationOp;
import org.convkit.tensor.Shape;

/**
 * Standalone activations on CUDA: {@code kernels/activation/activation.cu}, entry
 * {@code activation_fwd}, one thread per element, as {@code ClActivation} launches its OpenCL
 * twin; the kind and its two parameters are arguments.
 */
final class CudaActivation extends CudaKernel {
    /** The module of every activation entry ({@link CudaPRelu} too). */
    static final String MODULE = "activation/activation";
    static final String ENTRY = "activation_fwd";
    /** Block size (activation.cl's default). */
    static final int WG = 256;

    CudaActivation(CudaDevice device, ActivationOp op, Shape input) {
        super(device, op, List.of(input));
        use(plan(op, input));
    }

    static List<CudaLaunch> plan(ActivationOp op, Shape input) {
        int count = (int) input.elementCount();
        return List.of(CudaLaunch.of(MODULE, ENTRY, new long[] {roundUp(count, WG)}, new long[] {WG})
                .input(0).output().ints(count, op.kind().code()).f32(op.alpha()).f32(op.beta()).build());
    }
}
