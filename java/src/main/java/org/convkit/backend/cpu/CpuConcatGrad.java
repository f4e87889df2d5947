package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Concat;
import org.convkit.ops.grad.ConcatGrad;
import org.convkit.tensor.Shape;

/** The gradient of one concat input on the CPU ({@link ConcatGrad}): its slice of each row of dy, copied. */
final class CpuConcatGrad extends CpuKernel {
    private final Concat.Geometry g;
    private final int index;

    CpuConcatGrad(CpuDevice device, ConcatGrad op, List<Shape> inputs) {
        super(device, op, inputs);
        this.g = op.geometry();
        this.index = op.index();
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment dy = CpuDevice.segment(args.get(0));
        MemorySegment dx = CpuDevice.segment(output);
        long inner = g.inner(index);
        long bytes = inner * Float.BYTES;
        long rows = g.outer();
        long perItem = Math.max(1, rows / ((long) cpu.threads() * ITEMS_PER_THREAD));
        cpu.parallelFor(workItems((rows + perItem - 1) / perItem), item -> {
            long end = Math.min(rows, (item + 1) * perItem);
            for (long r = item * perItem; r < end; r++) {
                MemorySegment.copy(dy, (r * g.outInner() + g.offset(index)) * Float.BYTES, dx, r * bytes, bytes);
            }
        });
    }
}
