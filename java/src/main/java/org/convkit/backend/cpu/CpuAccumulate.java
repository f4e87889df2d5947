package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.train.Accumulate;
import org.convkit.tensor.Shape;

/** {@code y += x} on the CPU, in chunks of {@value CpuActivation#CHUNK} elements taken by the threads. */
final class CpuAccumulate extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final long count;

    CpuAccumulate(CpuDevice device, Accumulate op, Shape input) {
        super(device, op, List.of(input));
        this.count = input.elementCount();
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment y = CpuDevice.segment(output);
        int chunk = CpuActivation.CHUNK;
        cpu.parallelFor(workItems((count + chunk - 1) / chunk), item -> {
            long end = Math.min(count, (long) (item + 1) * chunk);
            for (long i = (long) item * chunk; i < end; i++) {
                y.setAtIndex(F, i, y.getAtIndex(F, i) + x.getAtIndex(F, i));
            }
        });
    }
}
