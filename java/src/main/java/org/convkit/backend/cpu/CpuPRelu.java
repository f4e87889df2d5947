package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.PRelu;
import org.convkit.tensor.Shape;

/**
 * PReLU on the CPU. The input is walked in rows of the innermost broadcast group
 * ({@link PRelu.Broadcast}): along a row the slope index advances by a constant stride (0 when
 * the slope is broadcast there), so it is computed once per row; rows are grouped into work items
 * of about {@value CpuActivation#CHUNK} elements. Each element is {@code max(x, 0) + a * min(x, 0)}
 * (a select, not a branch on the sign: see {@link CpuActivation}), NaN passing through.
 */
final class CpuPRelu extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final PRelu.Broadcast b;
    private final long count;
    private final int rowLength;
    private final int rowStride;

    CpuPRelu(CpuDevice device, PRelu op, Shape input) {
        super(device, op, List.of(input));
        this.b = op.broadcast(input);
        this.count = input.elementCount();
        // Without groups (one slope for everything) launch cuts plain chunks instead.
        this.rowLength = b.dims().length == 0 ? 0 : b.dims()[0];
        this.rowStride = b.dims().length == 0 ? 0 : b.strides()[0];
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment slope = CpuDevice.segment(args.get(1));
        MemorySegment y = CpuDevice.segment(output);
        if (b.dims().length == 0) {
            // One slope for everything: plain chunks.
            long chunks = (count + CpuActivation.CHUNK - 1) / CpuActivation.CHUNK;
            cpu.parallelFor(workItems(chunks), item -> {
                long lo = (long) item * CpuActivation.CHUNK;
                row(x, slope, y, lo, 0, (int) Math.min(CpuActivation.CHUNK, count - lo), 0);
            });
            return;
        }
        long rows = count / rowLength;
        long rowsPerItem = Math.max(1, CpuActivation.CHUNK / rowLength);
        long items = (rows + rowsPerItem - 1) / rowsPerItem;
        cpu.parallelFor(workItems(items), item -> {
            long r1 = Math.min(rows, (item + 1) * rowsPerItem);
            for (long r = item * rowsPerItem; r < r1; r++) {
                long start = r * rowLength;
                row(x, slope, y, start, b.slopeIndex(start), rowLength, rowStride);
            }
        });
    }

    /** One row: {@code length} elements from {@code start}, slopes from {@code j} advancing by {@code stride}. */
    private static void row(MemorySegment x, MemorySegment slope, MemorySegment y, long start, long j, int length,
            int stride) {
        if (stride == 0) {
            float a = slope.getAtIndex(F, j);
            for (long i = start; i < start + length; i++) {
                float v = x.getAtIndex(F, i);
                y.setAtIndex(F, i, Math.max(v, 0f) + a * Math.min(v, 0f));
            }
        } else {
            for (int k = 0; k < length; k++) {
                float v = x.getAtIndex(F, start + k);
                float a = slope.getAtIndex(F, j + (long) k * stride);
                y.setAtIndex(F, start + k, Math.max(v, 0f) + a * Math.min(v, 0f));
            }
        }
    }
}
