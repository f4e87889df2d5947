package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Softmax;
import org.convkit.tensor.Shape;

/**
 * Softmax on the CPU, on the {@code [outer, length, inner]} view of the input. A unit of work is
 * one outer index and a block of up to {@value #BLOCK} inner indices, so that for inner > 1 the
 * loops run over contiguous floats; units are grouped into work items of at least
 * {@value #MIN_ITEM} elements. Three passes per row (max; exp, written and summed in double;
 * divide), subtracting the max so that large inputs stay finite.
 */
final class CpuSoftmax extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int BLOCK = 256;
    private static final int MIN_ITEM = 8192;

    private final Softmax.Geometry g;
    private final long blocksPerOuter;
    private final long unitsPerItem;
    private final ThreadLocal<double[][]> scratch;

    CpuSoftmax(CpuDevice device, Softmax op, Shape input) {
        super(device, op, List.of(input));
        this.g = op.geometry(input);
        this.blocksPerOuter = (g.inner() + BLOCK - 1) / BLOCK;
        long unitElements = (long) g.length() * Math.min(BLOCK, g.inner());
        this.unitsPerItem = Math.max(1, MIN_ITEM / unitElements);
        this.scratch = ThreadLocal.withInitial(() -> new double[][] {new double[BLOCK], new double[BLOCK]});
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment y = CpuDevice.segment(output);
        long units = g.outer() * blocksPerOuter;
        long items = (units + unitsPerItem - 1) / unitsPerItem;
        cpu.parallelFor(workItems(items), item -> {
            long u1 = Math.min(units, (item + 1) * unitsPerItem);
            for (long u = item * unitsPerItem; u < u1; u++) {
                long o = u / blocksPerOuter;
                long i0 = (u % blocksPerOuter) * BLOCK;
                unit(x, y, o, i0, (int) Math.min(BLOCK, g.inner() - i0));
            }
        });
    }

    /** Softmax of the rows (o, i0 .. i0 + width - 1). */
    private void unit(MemorySegment x, MemorySegment y, long o, long i0, int width) {
        double[][] s = scratch.get();
        double[] max = s[0];
        double[] sum = s[1];
        final long inner = g.inner();
        final int length = g.length();
        final long base = o * length * inner + i0;
        java.util.Arrays.fill(max, 0, width, Double.NEGATIVE_INFINITY);
        java.util.Arrays.fill(sum, 0, width, 0.0);
        for (int j = 0; j < length; j++) {
            long row = base + j * inner;
            for (int i = 0; i < width; i++) {
                // Math.max keeps a NaN, which then spreads through the row as in the reference.
                max[i] = Math.max(max[i], x.getAtIndex(F, row + i));
            }
        }
        for (int j = 0; j < length; j++) {
            long row = base + j * inner;
            for (int i = 0; i < width; i++) {
                double e = Math.exp(x.getAtIndex(F, row + i) - max[i]);
                y.setAtIndex(F, row + i, (float) e);
                sum[i] += e;
            }
        }
        for (int j = 0; j < length; j++) {
            long row = base + j * inner;
            for (int i = 0; i < width; i++) {
                y.setAtIndex(F, row + i, (float) (y.getAtIndex(F, row + i) / sum[i]));
            }
        }
    }
}
