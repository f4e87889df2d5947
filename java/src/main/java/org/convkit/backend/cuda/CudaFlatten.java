package org.convkit.backend.cuda;

import org.convkit.ops.Flatten;
import org.convkit.tensor.Shape;

/** flatten on CUDA: the input's elements copied unchanged ({@link CudaCopy}); only the shape changes. */
final class CudaFlatten extends CudaCopy {
    CudaFlatten(CudaDevice device, Flatten flatten, Shape input) {
        super(device, flatten, input);
    }
}
