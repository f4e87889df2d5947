package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.tensor.Shape;

/**
 * Direct convolution on the CPU. Work item = (image, output channel, band of output rows); each
 * accumulates its band in a float array, adding one kernel tap at a time over a whole row span
 * (the span whose input columns are inside the image is computed once per tap, so the inner
 * loop has no bounds tests), then applies bias and activation and writes NCHW.
 */
final class CpuConv2d extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final Conv2d.Geometry g;
    private final int rowsPerItem;
    private final ThreadLocal<float[]> scratch;

    CpuConv2d(CpuDevice device, Conv2d conv, Shape input) {
        super(device, conv, List.of(input));
        this.g = conv.geometry(input);
        this.rowsPerItem = rowsPerBand((long) g.n() * g.oc(), g.oh());
        int size = rowsPerItem * g.ow();
        this.scratch = ThreadLocal.withInitial(() -> new float[size]);
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        forEachConvBand(args, output, g.bias(), g.n(), g.oc(), g.oh(), rowsPerItem, this::computeBand);
    }

    private void computeBand(MemorySegment x, MemorySegment w, MemorySegment b, MemorySegment y, int n, int o,
            int oh0, int oh1) {
        final int ow = g.ow();
        final int cpg = g.cPerGroup();
        final int kh = g.kh();
        final int kw = g.kw();
        float[] acc = scratch.get();
        int len = (oh1 - oh0) * ow;
        float bias = b == null ? 0f : b.getAtIndex(F, o);
        java.util.Arrays.fill(acc, 0, len, bias);

        int c0 = (o / g.ocPerGroup()) * cpg;
        for (int ci = 0; ci < cpg; ci++) {
            long xPlane = ((long) n * g.c() + c0 + ci) * g.h() * g.w();
            long wBase = ((long) o * cpg + ci) * kh * kw;
            for (int r = 0; r < kh; r++) {
                for (int s = 0; s < kw; s++) {
                    addTap(g, x, xPlane, w.getAtIndex(F, wBase + (long) r * kw + s), r, s, oh0, oh1, acc, 0);
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

    /**
     * Adds kernel tap (r, s), of weight {@code wv}, over the input plane at {@code xPlane} to output
     * rows [oh0, oh1), held in {@code acc} from {@code accBase}, one row of {@code ow} after another.
     * Only the output columns whose input column lies inside the image are visited (a span
     * computed once per tap), so the inner loop has no bounds tests. Shared with the depthwise
     * stage of {@link CpuSeparableConv2d}.
     */
    static void addTap(Conv2d.Geometry g, MemorySegment x, long xPlane, float wv, int r, int s, int oh0, int oh1,
            float[] acc, int accBase) {
        final int ow = g.ow();
        final int inW = g.w();
        final int inH = g.h();
        final int sw = g.sw();
        int rowOffset = r * g.dh() - g.padTop();
        int colOffset = s * g.dw() - g.padLeft();
        // Output columns whose input column colOffset + ow * sw lies in [0, inW).
        int owLo = colOffset >= 0 ? 0 : Math.ceilDiv(-colOffset, sw);
        int owHi = Math.min(ow, Math.floorDiv(inW - 1 - colOffset, sw) + 1);
        if (owLo >= owHi) {
            return;
        }
        for (int oh = oh0; oh < oh1; oh++) {
            int ih = oh * g.sh() + rowOffset;
            if (ih < 0 || ih >= inH) {
                continue;
            }
            long src = xPlane + (long) ih * inW + colOffset;
            int dst = accBase + (oh - oh0) * ow;
            for (int c = owLo; c < owHi; c++) {
                acc[dst + c] += wv * x.getAtIndex(F, src + (long) c * sw);
            }
        }
    }
}
