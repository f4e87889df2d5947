package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.ops.BatchNorm;
import org.convkit.tensor.Shape;

/**
 * batchnorm (inference) on the CPU. The per-channel factor {@code scale / sqrt(var + epsilon)} is
 * computed once per launch; then the elements are split into equal chunks, one per work item
 * (planes are not the unit, since a rank-2 input has planes of one element), and each chunk is
 * walked plane by plane, so that the channel is known without a division per element.
 */
final class CpuBatchNorm extends Kernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Elements per work item at least, so that scheduling costs nothing next to the work. */
    private static final long MIN_CHUNK = 1 << 14;
    private static final int ITEMS_PER_THREAD = 8;

    private final CpuDevice cpu;
    private final float epsilon;
    private final int channels;
    private final long inner;
    private final long count;
    private final long chunk;
    private final int items;

    CpuBatchNorm(CpuDevice device, BatchNorm bn, Shape input) {
        super(device, bn, List.of(input));
        this.cpu = device;
        this.epsilon = bn.epsilon();
        this.channels = bn.channels(input);
        this.count = input.elementCount();
        this.inner = count / ((long) input.dim(0) * channels);
        long want = (long) device.threads() * ITEMS_PER_THREAD;
        this.chunk = Math.max(MIN_CHUNK, (count + want - 1) / want);
        long n = (count + chunk - 1) / chunk;
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cpu " + describe() + ": too many work items (" + n + ")");
        }
        this.items = (int) n;
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment scale = CpuDevice.segment(args.get(1));
        MemorySegment bias = CpuDevice.segment(args.get(2));
        MemorySegment mean = CpuDevice.segment(args.get(3));
        MemorySegment var = CpuDevice.segment(args.get(4));
        MemorySegment y = CpuDevice.segment(output);
        float[] f = new float[channels];
        float[] m = new float[channels];
        float[] b = new float[channels];
        for (int c = 0; c < channels; c++) {
            f[c] = scale.getAtIndex(F, c) / (float) Math.sqrt(var.getAtIndex(F, c) + epsilon);
            m[c] = mean.getAtIndex(F, c);
            b[c] = bias.getAtIndex(F, c);
        }
        cpu.parallelFor(items, item -> {
            long start = item * chunk;
            long end = Math.min(count, start + chunk);
            long plane = start / inner;
            while (start < end) {
                long planeEnd = Math.min(end, (plane + 1) * inner);
                int c = (int) (plane % channels);
                float fc = f[c];
                float mc = m[c];
                float bc = b[c];
                for (long i = start; i < planeEnd; i++) {
                    y.setAtIndex(F, i, Math.fma(x.getAtIndex(F, i) - mc, fc, bc));
                }
                start = planeEnd;
                plane++;
            }
        });
    }
}
