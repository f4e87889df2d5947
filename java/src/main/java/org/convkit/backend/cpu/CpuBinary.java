package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.ops.Activation;
import org.convkit.ops.Binary;
import org.convkit.tensor.Shape;

/**
 * add / mul on the CPU over the collapsed broadcast ({@link Binary#layout}). The innermost
 * collapsed dimension is a row, which each input either walks (stride 1) or repeats (stride 0);
 * the outer dimensions only give each row its two start offsets. Work item = a run of rows, or a
 * slice of one long row, of about {@link #GRAIN} elements, so equal shapes (one long row) and
 * many short rows both spread over the threads.
 */
final class CpuBinary extends Kernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Elements per work item: large enough that scheduling costs nothing, small enough to balance. */
    private static final long GRAIN = 1 << 14;

    private final CpuDevice cpu;
    private final boolean mul;
    private final boolean relu;
    /** Outer collapsed dims (all but the innermost) and their strides in a and b. */
    private final long[] outerDims;
    private final long[] outerA;
    private final long[] outerB;
    private final long rowLength;
    private final long rowStrideA;
    private final long rowStrideB;
    private final long rows;
    /** Rows per work item when rows are short, or slices per row when a row is long. */
    private final long rowsPerItem;
    private final long slicesPerRow;
    private final long sliceLength;

    CpuBinary(CpuDevice device, Binary op, List<Shape> inputs) {
        super(device, op, inputs);
        this.cpu = device;
        this.mul = op.kind() == Binary.Kind.MUL;
        this.relu = op.activation() == Activation.RELU;
        Binary.Layout l = op.layout(inputs);
        int r = l.rank();
        long[] dims = l.dims();
        long[] sa = l.aStrides();
        long[] sb = l.bStrides();
        this.rowLength = dims[r - 1];
        this.rowStrideA = sa[r - 1];
        this.rowStrideB = sb[r - 1];
        this.outerDims = Arrays.copyOf(dims, r - 1);
        this.outerA = Arrays.copyOf(sa, r - 1);
        this.outerB = Arrays.copyOf(sb, r - 1);
        this.rows = outputShape().elementCount() / rowLength;
        if (rowLength >= GRAIN) {
            this.rowsPerItem = 1;
            this.slicesPerRow = (rowLength + GRAIN - 1) / GRAIN;
            this.sliceLength = (rowLength + slicesPerRow - 1) / slicesPerRow;
        } else {
            this.rowsPerItem = Math.max(1, GRAIN / rowLength);
            this.slicesPerRow = 1;
            this.sliceLength = rowLength;
        }
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment a = CpuDevice.segment(args.get(0));
        MemorySegment b = CpuDevice.segment(args.get(1));
        MemorySegment y = CpuDevice.segment(output);
        long rowGroups = (rows + rowsPerItem - 1) / rowsPerItem;
        long items = rowGroups * slicesPerRow;
        if (items > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cpu " + describe() + ": too many work items (" + items + ")");
        }
        cpu.parallelFor((int) items, item -> {
            long group = item / slicesPerRow;
            long slice = item % slicesPerRow;
            long j0 = slice * sliceLength;
            long j1 = Math.min(rowLength, j0 + sliceLength);
            long rowEnd = Math.min(rows, (group + 1) * rowsPerItem);
            for (long row = group * rowsPerItem; row < rowEnd; row++) {
                computeRow(a, b, y, row, j0, j1);
            }
        });
    }

    /** Elements [j0, j1) of output row {@code row}. */
    private void computeRow(MemorySegment a, MemorySegment b, MemorySegment y, long row, long j0, long j1) {
        long ia = 0;
        long ib = 0;
        long rest = row;
        for (int k = outerDims.length - 1; k >= 0; k--) {
            long c = rest % outerDims[k];
            rest /= outerDims[k];
            ia += c * outerA[k];
            ib += c * outerB[k];
        }
        long out = row * rowLength;
        long sa = rowStrideA;
        long sb = rowStrideB;
        for (long j = j0; j < j1; j++) {
            float va = a.getAtIndex(F, ia + j * sa);
            float vb = b.getAtIndex(F, ib + j * sb);
            float v = mul ? va * vb : va + vb;
            // Written so that NaN stays NaN.
            y.setAtIndex(F, out + j, relu && v < 0f ? 0f : v);
        }
    }
}
