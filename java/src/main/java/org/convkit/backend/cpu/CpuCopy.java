package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Op;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;

/**
 * The kernel of the ops whose output is their input's elements in the same order under other
 * dimensions ({@link CpuFlatten}, {@link CpuReshape}): one bulk {@link MemorySegment#copy}, which
 * is memory-bound on one thread already.
 */
abstract class CpuCopy extends CpuKernel {
    private final long bytes;

    CpuCopy(CpuDevice device, Op op, Shape input) {
        super(device, op, List.of(input));
        this.bytes = input.byteSize(DType.F32);
    }

    @Override
    protected final void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment.copy(CpuDevice.segment(args.get(0)), 0, CpuDevice.segment(output), 0, bytes);
    }
}
