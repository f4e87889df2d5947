package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.BatchNorm;
import org.convkit.tensor.Shape;

/**
 * batchnorm (inference) on the CPU. The per-channel factor {@code scale / sqrt(var + epsilon)} is
 * computed once per launch; then the elements are split into equal chunks, one per work item
 * (planes are not the unit, since a rank-2 input has planes of one element). A chunk is copied
 * into a thread-local array in bulk, walked plane by plane there (the channel is a counter, not a
 * division per element), and copied out: element-wise segment accesses cost a check each, which
 * dominated when planes are a single element.
 */
final class CpuBatchNorm extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Elements per work item at least, so that scheduling costs nothing next to the work. */
    private static final long MIN_CHUNK = 1 << 14;
    /** Elements per work item at most (the size of each thread's array). */
    private static final long MAX_CHUNK = 1 << 16;

    private final float epsilon;
    private final int channels;
    private final long inner;
    private final long count;
    private final long chunk;
    private final int items;
    private final ThreadLocal<float[]> buffer;

    CpuBatchNorm(CpuDevice device, BatchNorm bn, Shape input) {
        super(device, bn, List.of(input));
        this.epsilon = bn.epsilon();
        this.channels = bn.channels(input);
        this.count = input.elementCount();
        this.inner = count / ((long) input.dim(0) * channels);
        long want = (long) device.threads() * ITEMS_PER_THREAD;
        this.chunk = Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, (count + want - 1) / want));
        this.items = workItems((count + chunk - 1) / chunk);
        int size = (int) Math.min(chunk, count);
        this.buffer = ThreadLocal.withInitial(() -> new float[size]);
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
            int len = (int) (Math.min(count, start + chunk) - start);
            float[] v = buffer.get();
            MemorySegment.copy(x, F, start * Float.BYTES, v, 0, len);
            long plane = start / inner;
            // The channel advances with the plane; a counter, not a division per plane.
            int c = (int) (plane % channels);
            if (inner == 1) {
                // [N, C]: runs of consecutive channels, a loop over arrays the JIT vectorises.
                for (int i = 0; i < len; c = 0) {
                    int run = Math.min(len - i, channels - c);
                    for (int j = 0; j < run; j++) {
                        v[i + j] = Math.fma(v[i + j] - m[c + j], f[c + j], b[c + j]);
                    }
                    i += run;
                }
                MemorySegment.copy(v, 0, y, F, start * Float.BYTES, len);
                return;
            }
            int i = 0;
            int planeEnd = (int) Math.min(len, (plane + 1) * inner - start);
            while (i < len) {
                float fc = f[c];
                float mc = m[c];
                float bc = b[c];
                for (; i < planeEnd; i++) {
                    v[i] = Math.fma(v[i] - mc, fc, bc);
                }
                planeEnd = (int) Math.min(len, planeEnd + inner);
                if (++c == channels) {
                    c = 0;
                }
            }
            MemorySegment.copy(v, 0, y, F, start * Float.BYTES, len);
        });
    }
}
