package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Concat;
import org.convkit.tensor.Shape;

/**
 * concat on the CPU: per input, a strided block copy of its {@code outer} rows into the output
 * ({@link Concat.Geometry}), each row one bulk {@link MemorySegment#copy}. Work item = a run of
 * rows, or a slice of one long row, of about {@link #GRAIN} elements, so that axis 0 (one long
 * row) and a last-axis concat (many short rows) both use every thread.
 */
final class CpuConcat extends CpuKernel {
    /** Elements per work item. */
    private static final long GRAIN = 1 << 15;

    private final Concat.Geometry g;

    CpuConcat(CpuDevice device, Concat op, List<Shape> inputs) {
        super(device, op, inputs);
        this.g = op.geometry(inputs);
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment y = CpuDevice.segment(output);
        for (int i = 0; i < g.inputCount(); i++) {
            copy(CpuDevice.segment(args.get(i)), y, g.inner(i), g.offset(i));
        }
    }

    private void copy(MemorySegment x, MemorySegment y, long inner, long offset) {
        long outer = g.outer();
        long outInner = g.outInner();
        long slices = inner >= GRAIN ? (inner + GRAIN - 1) / GRAIN : 1;
        long sliceLength = (inner + slices - 1) / slices;
        long rowsPerItem = inner >= GRAIN ? 1 : Math.max(1, GRAIN / inner);
        long items = (outer + rowsPerItem - 1) / rowsPerItem * slices;
        cpu.parallelFor(workItems(items), item -> {
            long group = item / slices;
            long j0 = (item % slices) * sliceLength;
            long len = Math.min(inner, j0 + sliceLength) - j0;
            long rowEnd = Math.min(outer, (group + 1) * rowsPerItem);
            for (long o = group * rowsPerItem; o < rowEnd; o++) {
                MemorySegment.copy(x, (o * inner + j0) * Float.BYTES, y, (o * outInner + offset + j0) * Float.BYTES,
                        len * Float.BYTES);
            }
        });
    }
}
