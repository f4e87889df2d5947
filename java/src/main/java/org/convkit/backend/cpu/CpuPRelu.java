package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.ops.PRelu;
import org.convkit.tensor.Shape;

/**
 * PReLU on the CPU. The input is walked in rows of the innermost broadcast group
 * ({@link PRelu.Broadcast}): along a row the slope index advances by a constant stride (0 when
 * the slope is broadcast there), so it is computed once per row; rows are grouped into work items
 * of about {@value CpuActivation#CHUNK} elements.
 */
final class CpuPRelu extends Kernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final CpuDevice cpu;
    private final PRelu.Broadcast b;
    private final long count;
    private final int rowLength;
    private final int rowStride;

    CpuPRelu(CpuDevice device, PRelu op, Shape input) {
        super(device, op, List.of(input));
        this.cpu = device;
        this.b = op.broadcast(input);
        this.count = input.elementCount();
        // No group: one slope for everything; one "row" is then the whole tensor, cut by chunks below.
        this.rowLength = b.dims().length == 0 ? 1 : b.dims()[0];
        this.rowStride = b.dims().length == 0 ? 0 : b.strides()[0];
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment slope = CpuDevice.segment(args.get(1));
        MemorySegment y = CpuDevice.segment(output);
        long rows = count / rowLength;
        long rowsPerItem = Math.max(1, CpuActivation.CHUNK / rowLength);
        long items = (rows + rowsPerItem - 1) / rowsPerItem;
        if (items > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cpu " + describe() + ": too many work items (" + items + ")");
        }
        cpu.parallelFor((int) items, item -> {
            long r1 = Math.min(rows, (item + 1) * rowsPerItem);
            for (long r = item * rowsPerItem; r < r1; r++) {
                long start = r * rowLength;
                long j = b.slopeIndex(start);
                for (int k = 0; k < rowLength; k++, j += rowStride) {
                    float v = x.getAtIndex(F, start + k);
                    y.setAtIndex(F, start + k, v < 0f ? slope.getAtIndex(F, j) * v : v);
                }
            }
        });
    }
}
