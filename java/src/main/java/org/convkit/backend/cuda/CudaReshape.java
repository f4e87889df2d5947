package org.convkit.backend.cuda;

import org.convkit.ops.Reshape;
import org.convkit.tensor.Shape;

/** reshape on CUDA: the input's elements copied unchanged ({@link CudaCopy}); only the shape changes. */
final class CudaReshape extends CudaCopy {
    CudaReshape(CudaDevice device, Reshape reshape, Shape input) {
        super(device, reshape, input);
    }
}
