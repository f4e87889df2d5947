package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Binary;
import org.convkit.tensor.Shape;

/**
 * add / mul on the CPU over the collapsed broadcast ({@link Binary#layout}). The innermost
 * collapsed dimension is a row, which each input either walks (stride 1) or repeats (stride 0);
 * the outer dimensions only give each row its two start offsets. Work item = a run of rows, or a
 * slice of one long row, of about {@link #GRAIN} elements, so equal shapes (one long row) and
 * many short rows both spread over the threads.
 */
final class CpuBinary extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Elements per work item: large enough that scheduling costs nothing, small enough to balance. */
    private static final long GRAIN = 1 << 14;

    private final boolean mul;
    /**
     * The activation as a lower bound, {@code max(v, floor)}: 0 for ReLU, -infinity for none.
     * Math.max keeps NaN, and has no branch for the JIT to trip on.
     */
    private final float floor;
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
        this.mul = op.kind() == Binary.Kind.MUL;
        // Exhaustive: a new activation must say here how it maps, or not compile.
        this.floor = switch (op.activation()) {
            case NONE -> Float.NEGATIVE_INFINITY;
            case RELU -> 0f;
        };
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
        cpu.parallelFor(workItems(items), item -> {
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
        long out = row * rowLength + j0;
        int n = (int) (j1 - j0);
        // Row strides are 1 (walk) or 0 (repeat one value), never both 0: one loop per pattern,
        // each a plain streaming loop the JIT can vectorise.
        if (rowStrideA == 0) {
            float va = a.getAtIndex(F, ia);
            if (mul) {
                for (int j = 0; j < n; j++) {
                    y.setAtIndex(F, out + j, Math.max(va * b.getAtIndex(F, ib + j0 + j), floor));
                }
            } else {
                for (int j = 0; j < n; j++) {
                    y.setAtIndex(F, out + j, Math.max(va + b.getAtIndex(F, ib + j0 + j), floor));
                }
            }
        } else if (rowStrideB == 0) {
            float vb = b.getAtIndex(F, ib);
            if (mul) {
                for (int j = 0; j < n; j++) {
                    y.setAtIndex(F, out + j, Math.max(a.getAtIndex(F, ia + j0 + j) * vb, floor));
                }
            } else {
                for (int j = 0; j < n; j++) {
                    y.setAtIndex(F, out + j, Math.max(a.getAtIndex(F, ia + j0 + j) + vb, floor));
                }
            }
        } else {
            long sa = ia + j0;
            long sb = ib + j0;
            if (mul) {
                for (int j = 0; j < n; j++) {
                    y.setAtIndex(F, out + j, Math.max(a.getAtIndex(F, sa + j) * b.getAtIndex(F, sb + j), floor));
                }
            } else {
                for (int j = 0; j < n; j++) {
                    y.setAtIndex(F, out + j, Math.max(a.getAtIndex(F, sa + j) + b.getAtIndex(F, sb + j), floor));
                }
            }
        }
    }
}
