package org.convkit.backend.cpu;

import org.convkit.ops.Flatten;
import org.convkit.tensor.Shape;

/** flatten on the CPU: the input's elements copied unchanged ({@link CpuCopy}); only the shape changes. */
final class CpuFlatten extends CpuCopy {
    CpuFlatten(CpuDevice device, Flatten flatten, Shape input) {
        super(device, flatten, input);
    }
}
