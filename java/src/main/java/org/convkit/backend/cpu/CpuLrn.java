package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Lrn;
import org.convkit.tensor.Shape;

/**
 * LRN on the CPU. Work item = (image, run of channels) of at least {@value #MIN_ITEM} elements;
 * for each channel it accumulates the squares of its window's channel planes into a row of
 * sums (contiguous inner loops over the spatial positions), then divides by the power in double
 * (square roots for the common betas 0.75, 0.5 and 1, as in the OpenCL kernel).
 * Each window is summed directly (no sliding subtraction, which would cancel), in channel order.
 */
final class CpuLrn extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int MIN_ITEM = 4096;

    private final Lrn.Geometry g;
    private final int channelsPerItem;
    private final int itemsPerImage;
    private final ThreadLocal<float[]> sums;

    CpuLrn(CpuDevice device, Lrn op, Shape input) {
        super(device, op, List.of(input));
        this.g = op.geometry(input);
        this.channelsPerItem = Math.min(g.c(), Math.max(1, MIN_ITEM / g.spatial()));
        this.itemsPerImage = (g.c() + channelsPerItem - 1) / channelsPerItem;
        int spatial = g.spatial();
        this.sums = ThreadLocal.withInitial(() -> new float[spatial]);
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment y = CpuDevice.segment(output);
        long items = (long) g.n() * itemsPerImage;
        cpu.parallelFor(workItems(items), item -> {
            int n = item / itemsPerImage;
            int c0 = (item % itemsPerImage) * channelsPerItem;
            int c1 = Math.min(g.c(), c0 + channelsPerItem);
            for (int c = c0; c < c1; c++) {
                channel(x, y, n, c);
            }
        });
    }

    /** base^beta; the common betas by square roots, which cost a fraction of Math.pow (see lrn.cl). */
    private static double power(double base, double beta) {
        if (beta == 0.75) {
            return Math.sqrt(base * Math.sqrt(base));
        } else if (beta == 0.5) {
            return Math.sqrt(base);
        } else if (beta == 1) {
            return base;
        }
        return Math.pow(base, beta);
    }

    private void channel(MemorySegment x, MemorySegment y, int n, int c) {
        final int spatial = g.spatial();
        final long image = (long) n * g.c() * spatial;
        float[] acc = sums.get();
        java.util.Arrays.fill(acc, 0f);
        int lo = Math.max(0, c - g.before());
        int hi = Math.min(g.c() - 1, c + g.after());
        for (int k = lo; k <= hi; k++) {
            long plane = image + (long) k * spatial;
            for (int s = 0; s < spatial; s++) {
                float v = x.getAtIndex(F, plane + s);
                acc[s] += v * v;
            }
        }
        long plane = image + (long) c * spatial;
        double bias = g.bias();
        double scale = g.scale();
        double beta = g.beta();
        for (int s = 0; s < spatial; s++) {
            double base = bias + scale * acc[s];
            y.setAtIndex(F, plane + s, (float) (x.getAtIndex(F, plane + s) / power(base, beta)));
        }
    }
}
