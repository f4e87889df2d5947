package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.tensor.Shape;

/**
 * Direct convolution on the CPU. Work item = (image, output channel, band of output rows); each
 * accumulates its band in a float array, adding one kernel tap at a time over a whole row span
 * (the span whose input columns are inside the image is computed once per tap, so the inner
 * loop has no bounds tests), then applies bias and activation and writes NCHW.
 */
final class CpuConv2d extends Kernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Aim for this many work items per thread so that dynamic scheduling can balance. */
    private static final int ITEMS_PER_THREAD = 8;

    private final CpuDevice cpu;
    private final Conv2d.Geometry g;
    private final int rowsPerItem;
    private final int bands;
    private final ThreadLocal<float[]> scratch;

    CpuConv2d(CpuDevice device, Conv2d conv, Shape input) {
        super(device, conv, List.of(input));
        this.cpu = device;
        this.g = conv.geometry(input);
        long planes = (long) g.n() * g.oc();
        long wanted = (long) device.threads() * ITEMS_PER_THREAD;
        int b = (int) Math.min(g.oh(), Math.max(1, (wanted + planes - 1) / planes));
        this.rowsPerItem = (g.oh() + b - 1) / b;
        this.bands = (g.oh() + rowsPerItem - 1) / rowsPerItem;
        int size = rowsPerItem * g.ow();
        this.scratch = ThreadLocal.withInitial(() -> new float[size]);
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment w = CpuDevice.segment(args.get(1));
        MemorySegment b = g.bias() ? CpuDevice.segment(args.get(2)) : null;
        MemorySegment y = CpuDevice.segment(output);
        long items = (long) g.n() * g.oc() * bands;
        if (items > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cpu " + describe() + ": too many work items (" + items + ")");
        }
        cpu.parallelFor((int) items, item -> {
            int band = item % bands;
            int plane = item / bands;
            computeBand(x, w, b, y, plane / g.oc(), plane % g.oc(), band * rowsPerItem,
                    Math.min(g.oh(), (band + 1) * rowsPerItem));
        });
    }

    private void computeBand(MemorySegment x, MemorySegment w, MemorySegment b, MemorySegment y, int n, int o,
            int oh0, int oh1) {
        final int ow = g.ow();
        final int inW = g.w();
        final int inH = g.h();
        final int sw = g.sw();
        final int cpg = g.cPerGroup();
        final int kh = g.kh();
        final int kw = g.kw();
        float[] acc = scratch.get();
        int len = (oh1 - oh0) * ow;
        float bias = b == null ? 0f : b.getAtIndex(F, o);
        java.util.Arrays.fill(acc, 0, len, bias);

        int c0 = (o / g.ocPerGroup()) * cpg;
        for (int ci = 0; ci < cpg; ci++) {
            long xPlane = ((long) n * g.c() + c0 + ci) * inH * inW;
            long wBase = ((long) o * cpg + ci) * kh * kw;
            for (int r = 0; r < kh; r++) {
                int rowOffset = r * g.dh() - g.padTop();
                for (int s = 0; s < kw; s++) {
                    float wv = w.getAtIndex(F, wBase + (long) r * kw + s);
                    int colOffset = s * g.dw() - g.padLeft();
                    // Output columns whose input column colOffset + ow * sw lies in [0, inW).
                    int owLo = colOffset >= 0 ? 0 : Math.ceilDiv(-colOffset, sw);
                    int owHi = Math.min(ow, Math.floorDiv(inW - 1 - colOffset, sw) + 1);
                    if (owLo >= owHi) {
                        continue;
                    }
                    for (int oh = oh0; oh < oh1; oh++) {
                        int ih = oh * g.sh() + rowOffset;
                        if (ih < 0 || ih >= inH) {
                            continue;
                        }
                        long src = xPlane + (long) ih * inW + colOffset;
                        int dst = (oh - oh0) * ow;
                        for (int c = owLo; c < owHi; c++) {
                            acc[dst + c] += wv * x.getAtIndex(F, src + (long) c * sw);
                        }
                    }
                }
            }
        }
        long out = (((long) n * g.oc() + o) * g.oh() + oh0) * ow;
        if (g.activation() == Activation.RELU) {
            for (int i = 0; i < len; i++) {
                y.setAtIndex(F, out + i, Math.max(acc[i], 0f));
            }
        } else {
            MemorySegment.copy(acc, 0, y, F, out * Float.BYTES, len);
        }
    }
}
