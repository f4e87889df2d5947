package org.convkit.backend.cpu;

import org.convkit.ops.Reshape;
import org.convkit.tensor.Shape;

/** reshape on the CPU: the input's elements copied unchanged ({@link CpuCopy}); only the shape changes. */
final class CpuReshape extends CpuCopy {
    CpuReshape(CpuDevice device, Reshape reshape, Shape input) {
        super(device, reshape, input);
    }
}
