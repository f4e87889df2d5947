package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.ops.Activation;
import org.convkit.ops.ConvTranspose2d;
import org.convkit.tensor.Shape;

/**
 * Transposed convolution on the CPU, in the gather formulation: work item = (image, output
 * channel, band of output rows), so every output element is summed by one thread in a fixed
 * order (no atomics, deterministic). For each output row it visits only the kernel rows that
 * reach it (every {@code strideH / gcd(strideH, dilationH)} taps from the first one, found once
 * per row at prepare time); for each reaching tap it adds one weight times a whole input row into
 * the output columns that row lands on ({@code iw * strideW + s * dilationW - padLeft}), the span
 * of input columns that land inside the output being computed once per kernel column.
 */
final class CpuConvTranspose2d extends Kernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Aim for this many work items per thread so that dynamic scheduling can balance. */
    private static final int ITEMS_PER_THREAD = 8;

    private final CpuDevice cpu;
    private final ConvTranspose2d.Geometry g;
    private final int rowsPerItem;
    private final int bands;
    private final ThreadLocal<float[]> scratch;
    /** Per output row: the first kernel row that reaches it (or kh if none). */
    private final int[] firstTap;
    private final int tapStep;
    /** Per kernel column s: output column of input column 0, and the input columns [lo, hi) that land inside. */
    private final int[] colOffset;
    private final int[] colLo;
    private final int[] colHi;

    CpuConvTranspose2d(CpuDevice device, ConvTranspose2d op, Shape input) {
        super(device, op, List.of(input));
        this.cpu = device;
        this.g = op.geometry(input);
        long planes = (long) g.n() * g.oc();
        long wanted = (long) device.threads() * ITEMS_PER_THREAD;
        int b = (int) Math.min(g.oh(), Math.max(1, (wanted + planes - 1) / planes));
        this.rowsPerItem = (g.oh() + b - 1) / b;
        this.bands = (g.oh() + rowsPerItem - 1) / rowsPerItem;
        int size = rowsPerItem * g.ow();
        this.scratch = ThreadLocal.withInitial(() -> new float[size]);

        this.tapStep = g.sh() / gcd(g.sh(), g.dh());
        this.firstTap = new int[g.oh()];
        for (int oh = 0; oh < g.oh(); oh++) {
            firstTap[oh] = g.kh();
            for (int r = 0; r < tapStep; r++) {
                if ((oh + g.padTop() - r * g.dh()) % g.sh() == 0) {
                    firstTap[oh] = r;
                    break;
                }
            }
        }
        this.colOffset = new int[g.kw()];
        this.colLo = new int[g.kw()];
        this.colHi = new int[g.kw()];
        for (int s = 0; s < g.kw(); s++) {
            int off = s * g.dw() - g.padLeft();
            colOffset[s] = off;
            colLo[s] = Math.max(0, Math.ceilDiv(-off, g.sw()));
            colHi[s] = Math.min(g.w(), Math.floorDiv(g.ow() - 1 - off, g.sw()) + 1);
        }
    }

    private static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
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
        final int sh = g.sh();
        final int sw = g.sw();
        final int kh = g.kh();
        final int kw = g.kw();
        final int cpg = g.cPerGroup();
        final int ocpg = g.ocPerGroup();
        float[] acc = scratch.get();
        int len = (oh1 - oh0) * ow;
        Arrays.fill(acc, 0, len, b == null ? 0f : b.getAtIndex(F, o));

        int group = o / ocpg;
        int ol = o - group * ocpg;
        for (int ci = 0; ci < cpg; ci++) {
            int c = group * cpg + ci;
            long xPlane = ((long) n * g.c() + c) * inH * inW;
            long wBase = ((long) c * ocpg + ol) * kh * kw;
            for (int oh = oh0; oh < oh1; oh++) {
                int base = oh + g.padTop();
                int dst = (oh - oh0) * ow;
                for (int r = firstTap[oh]; r < kh; r += tapStep) {
                    // Exact: base - r * dh is a multiple of sh (possibly negative).
                    int ih = (base - r * g.dh()) / sh;
                    if (ih < 0 || ih >= inH) {
                        continue;
                    }
                    long src = xPlane + (long) ih * inW;
                    for (int s = 0; s < kw; s++) {
                        int lo = colLo[s];
                        int hi = colHi[s];
                        if (lo >= hi) {
                            continue;
                        }
                        float wv = w.getAtIndex(F, wBase + (long) r * kw + s);
                        int out = dst + colOffset[s];
                        for (int iw = lo; iw < hi; iw++) {
                            acc[out + iw * sw] += wv * x.getAtIndex(F, src + iw);
                        }
                    }
                }
            }
        }
        long out = (((long) n * g.oc() + o) * g.oh() + oh0) * ow;
        if (g.activation() == Activation.RELU) {
            for (int i = 0; i < len; i++) {
                float v = acc[i];
                y.setAtIndex(F, out + i, v < 0f ? 0f : v);
            }
        } else {
            MemorySegment.copy(acc, 0, y, F, out * Float.BYTES, len);
        }
    }
}
