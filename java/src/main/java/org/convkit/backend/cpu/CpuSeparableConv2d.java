package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.ops.SeparableConv2d;
import org.convkit.tensor.Shape;

/**
 * sepconv2d on the CPU, fused: work item = (image, band of output rows). It computes the
 * depthwise result of its band for every channel into a per-thread scratch array (one band of
 * {@code C*M} planes, never a whole tensor), then the pointwise sums from it, one output channel
 * at a time, as row-long multiply-adds.
 */
final class CpuSeparableConv2d extends Kernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int ITEMS_PER_THREAD = 8;

    private final CpuDevice cpu;
    private final SeparableConv2d op;
    private final Conv2d.Geometry g;
    private final int cm;
    private final int rowsPerItem;
    private final int bands;
    private final ThreadLocal<float[][]> scratch;

    CpuSeparableConv2d(CpuDevice device, SeparableConv2d op, List<Shape> inputs) {
        super(device, op, inputs);
        this.cpu = device;
        this.op = op;
        Shape in = inputs.get(0);
        this.g = op.depthwise(in).geometry(in);
        this.cm = g.oc();
        long wanted = (long) device.threads() * ITEMS_PER_THREAD;
        int b = (int) Math.min(g.oh(), Math.max(1, (wanted + g.n() - 1) / g.n()));
        this.rowsPerItem = (g.oh() + b - 1) / b;
        this.bands = (g.oh() + rowsPerItem - 1) / rowsPerItem;
        int len = rowsPerItem * g.ow();
        this.scratch = ThreadLocal.withInitial(() -> new float[][] {new float[cm * len], new float[len]});
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        int a = 1;
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment dw = CpuDevice.segment(args.get(a++));
        MemorySegment db = op.hasDepthwiseBias() ? CpuDevice.segment(args.get(a++)) : null;
        MemorySegment pw = CpuDevice.segment(args.get(a++));
        MemorySegment pb = op.hasPointwiseBias() ? CpuDevice.segment(args.get(a)) : null;
        MemorySegment y = CpuDevice.segment(output);
        cpu.parallelFor(g.n() * bands, item -> {
            int n = item / bands;
            int oh0 = (item % bands) * rowsPerItem;
            band(x, dw, db, pw, pb, y, n, oh0, Math.min(g.oh(), oh0 + rowsPerItem));
        });
    }

    private void band(MemorySegment x, MemorySegment dw, MemorySegment db, MemorySegment pw, MemorySegment pb,
            MemorySegment y, int n, int oh0, int oh1) {
        final int ow = g.ow();
        final int len = (oh1 - oh0) * ow;
        final int stride = rowsPerItem * ow;
        float[][] s = scratch.get();
        float[] d = s[0];
        float[] acc = s[1];
        int m = cm / g.c();
        for (int c = 0; c < cm; c++) {
            depthwiseBand(x, dw, db, n, c, c / m, oh0, oh1, d, c * stride);
        }
        Activation act = op.pointwise().activation();
        int oc = op.outChannels();
        for (int o = 0; o < oc; o++) {
            Arrays.fill(acc, 0, len, pb == null ? 0f : pb.getAtIndex(F, o));
            long wrow = (long) o * cm;
            for (int c = 0; c < cm; c++) {
                float wv = pw.getAtIndex(F, wrow + c);
                int base = c * stride;
                for (int i = 0; i < len; i++) {
                    acc[i] += wv * d[base + i];
                }
            }
            long out = (((long) n * oc + o) * g.oh() + oh0) * ow;
            for (int i = 0; i < len; i++) {
                float v = acc[i];
                y.setAtIndex(F, out + i, act == Activation.RELU && v < 0 ? 0f : v);
            }
        }
    }

    /** Depthwise output rows [oh0, oh1) of channel c (reading input channel ic) into d[base...]. */
    private void depthwiseBand(MemorySegment x, MemorySegment dw, MemorySegment db, int n, int c, int ic, int oh0, int oh1,
            float[] d, int base) {
        final int ow = g.ow();
        final int inW = g.w();
        final int inH = g.h();
        final int sw = g.sw();
        int len = (oh1 - oh0) * ow;
        Arrays.fill(d, base, base + len, db == null ? 0f : db.getAtIndex(F, c));
        long xPlane = ((long) n * g.c() + ic) * inH * inW;
        long wBase = (long) c * g.kh() * g.kw();
        for (int r = 0; r < g.kh(); r++) {
            int rowOffset = r * g.dh() - g.padTop();
            for (int t = 0; t < g.kw(); t++) {
                float wv = dw.getAtIndex(F, wBase + (long) r * g.kw() + t);
                int colOffset = t * g.dw() - g.padLeft();
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
                    int dst = base + (oh - oh0) * ow;
                    for (int k = owLo; k < owHi; k++) {
                        d[dst + k] += wv * x.getAtIndex(F, src + (long) k * sw);
                    }
                }
            }
        }
        if (g.activation() == Activation.RELU) {
            for (int i = base; i < base + len; i++) {
                d[i] = d[i] < 0 ? 0f : d[i];
            }
        }
    }
}
