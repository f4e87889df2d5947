package org.convkit.backend.opencl;

import org.convkit.ops.Reshape;
import org.convkit.tensor.Shape;

/** reshape on OpenCL: the input's elements copied unchanged ({@link ClCopy}); only the shape changes. */
final class ClReshape extends ClCopy {
    ClReshape(ClDevice device, Reshape reshape, Shape input) {
        super(device, reshape, input);
    }
}
