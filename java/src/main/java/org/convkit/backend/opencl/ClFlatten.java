package org.convkit.backend.opencl;

import org.convkit.ops.Flatten;
import org.convkit.tensor.Shape;

/** flatten on OpenCL: the input's elements copied unchanged ({@link ClCopy}); only the shape changes. */
final class ClFlatten extends ClCopy {
    ClFlatten(ClDevice device, Flatten flatten, Shape input) {
        super(device, flatten, input);
    }
}
