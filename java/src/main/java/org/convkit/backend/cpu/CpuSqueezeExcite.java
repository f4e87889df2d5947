package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.SqueezeExcite;
import org.convkit.tensor.Shape;

/**
 * squeeze_excite on the CPU, in the same four steps as {@code kernels/se/se.cl}, each a parallel
 * loop that finishes before the next starts: pool one (n,c) plane per item, one dense unit per
 * item (W1 then ReLU, W2 then sigmoid), then scale whole planes (or slices of a large one) per
 * item. The pooled
 * vector, hidden vector and scales go to the caller's workspace at the offsets of
 * {@link SqueezeExcite.Geometry}. Sums accumulate in float, as the OpenCL kernels do.
 */
final class CpuSqueezeExcite extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Elements per scale work item. */
    private static final long GRAIN = 1 << 14;

    private final SqueezeExcite.Geometry g;

    CpuSqueezeExcite(CpuDevice device, SqueezeExcite op, Shape input) {
        super(device, op, List.of(input));
        this.g = op.geometry(input);
        // Work items are counted in ints: planes, dense units, and scale items (at most planes * slices).
        long units = (long) g.n() * Math.max(g.c(), g.hidden());
        workItems(units * ((g.plane() + GRAIN - 1) / GRAIN));
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment w1 = CpuDevice.segment(args.get(1));
        MemorySegment b1 = CpuDevice.segment(args.get(2));
        MemorySegment w2 = CpuDevice.segment(args.get(3));
        MemorySegment b2 = CpuDevice.segment(args.get(4));
        MemorySegment ws = CpuDevice.segment(workspace);
        MemorySegment y = CpuDevice.segment(output);
        long plane = g.plane();
        int planes = g.n() * g.c(); // checked in the constructor

        cpu.parallelFor(planes, p -> ws.setAtIndex(F, g.pooledOffset() + p, mean(x, p * plane, plane)));
        dense(ws, w1, b1, g.c(), g.hidden(), g.pooledOffset(), g.hiddenOffset(), false);
        dense(ws, w2, b2, g.hidden(), g.c(), g.hiddenOffset(), g.scalesOffset(), true);

        // Scale: a work item is a run of whole planes, or a slice of one plane, of about GRAIN elements.
        long slices = plane >= GRAIN ? (plane + GRAIN - 1) / GRAIN : 1;
        long sliceLength = (plane + slices - 1) / slices;
        long planesPerItem = plane >= GRAIN ? 1 : Math.max(1, GRAIN / plane);
        long items = (planes + planesPerItem - 1) / planesPerItem * slices;
        cpu.parallelFor((int) items, item -> {
            long group = item / slices;
            long i0 = (item % slices) * sliceLength;
            int n = (int) (Math.min(plane, i0 + sliceLength) - i0);
            long end = Math.min(planes, (group + 1) * planesPerItem);
            for (long p = group * planesPerItem; p < end; p++) {
                float s = ws.getAtIndex(F, g.scalesOffset() + p);
                long base = p * plane + i0;
                for (int i = 0; i < n; i++) {
                    y.setAtIndex(F, base + i, x.getAtIndex(F, base + i) * s);
                }
            }
        });
    }

    /** Mean of {@code count} floats from {@code base}; four running sums, so the adds overlap. */
    private static float mean(MemorySegment x, long base, long count) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        long i = 0;
        for (; i + 4 <= count; i += 4) {
            s0 += x.getAtIndex(F, base + i);
            s1 += x.getAtIndex(F, base + i + 1);
            s2 += x.getAtIndex(F, base + i + 2);
            s3 += x.getAtIndex(F, base + i + 3);
        }
        for (; i < count; i++) {
            s0 += x.getAtIndex(F, base + i);
        }
        return ((s0 + s1) + (s2 + s3)) / count;
    }

    /** out[n,o] = act(b[o] + sum_k w[o,k] in[n,k]) for every n, o: ReLU, or sigmoid when {@code sigmoid}. */
    private void dense(MemorySegment ws, MemorySegment w, MemorySegment b, int in, int out, long inOff, long outOff,
            boolean sigmoid) {
        cpu.parallelFor(g.n() * out, item -> {
            int n = item / out;
            int o = item % out;
            long src = inOff + (long) n * in;
            long row = (long) o * in;
            float acc = 0f;
            for (int k = 0; k < in; k++) {
                acc = Math.fma(w.getAtIndex(F, row + k), ws.getAtIndex(F, src + k), acc);
            }
            float v = acc + b.getAtIndex(F, o);
            // Both written so that NaN stays NaN.
            float r = sigmoid ? (float) (1.0 / (1.0 + Math.exp(-v))) : v < 0f ? 0f : v;
            ws.setAtIndex(F, outOff + (long) n * out + o, r);
        });
    }
}
