package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
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
final class CpuSeparableConv2d extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final SeparableConv2d op;
    private final Conv2d.Geometry g;
    private final int cm;
    private final int rowsPerItem;
    private final ThreadLocal<float[][]> scratch;

    CpuSeparableConv2d(CpuDevice device, SeparableConv2d op, List<Shape> inputs) {
        super(device, op, inputs);
        this.op = op;
        Shape in = inputs.get(0);
        this.g = op.depthwise(in).geometry(in);
        this.cm = g.oc();
        this.rowsPerItem = rowsPerBand(g.n(), g.oh());
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
        forEachBand(g.n(), g.oh(), rowsPerItem, (n, oh0, oh1) -> band(x, dw, db, pw, pb, y, n, oh0, oh1));
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
        int len = (oh1 - oh0) * g.ow();
        Arrays.fill(d, base, base + len, db == null ? 0f : db.getAtIndex(F, c));
        long xPlane = ((long) n * g.c() + ic) * g.h() * g.w();
        long wBase = (long) c * g.kh() * g.kw();
        for (int r = 0; r < g.kh(); r++) {
            for (int t = 0; t < g.kw(); t++) {
                float wv = dw.getAtIndex(F, wBase + (long) r * g.kw() + t);
                CpuConv2d.addTap(g, x, xPlane, wv, r, t, oh0, oh1, d, base);
            }
        }
        if (g.activation() == Activation.RELU) {
            for (int i = base; i < base + len; i++) {
                d[i] = d[i] < 0 ? 0f : d[i];
            }
        }
    }
}
