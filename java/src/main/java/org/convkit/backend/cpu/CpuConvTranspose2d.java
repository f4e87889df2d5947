package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Activation;
import org.convkit.ops.ConvTranspose2d;
import org.convkit.tensor.Shape;

/**
 * Transposed convolution on the CPU, in the gather formulation: work item = (image, output
 * channel, band of output rows), so every output element is summed by one thread in a fixed
 * order (no atomics, deterministic).
 *
 * <p>For each output row it visits only the kernel rows that reach it (every
 * {@code strideH / gcd(strideH, dilationH)} taps from the first one, found per row at prepare
 * time). Along the row, kernel column {@code s} sends input column {@code iw} to output column
 * {@code (iw + shift_s) * strideW + phase_s}: so the band is accumulated phase-major (one
 * contiguous run per stride phase), each tap adding a weight times a contiguous span of the
 * input row to a contiguous span of its phase (a loop the JIT vectorizes), and the phases are
 * interleaved into NCHW at the end, with bias and activation. The input rows a band can read are
 * copied into a Java array once per input channel.
 */
final class CpuConvTranspose2d extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Largest accumulator per work item: well inside a core's L2 (1 MiB on the Zen 5 of the field notes). */
    private static final int ACCUMULATOR_BYTES = 256 * 1024;

    private final ConvTranspose2d.Geometry g;
    private final int rowsPerItem;
    /** Columns per stride phase in the phase-major accumulator: ceil(OW / strideW). */
    private final int perPhase;
    private final ThreadLocal<float[]> accumulator;
    /** The input rows one band reads, for one channel at a time. */
    private final ThreadLocal<float[]> inputRows;
    /** Per output row: the first kernel row that reaches it (or kh if none). */
    private final int[] firstTap;
    private final int tapStep;
    /** Per kernel column s: phase and shift of its output columns, and the input columns [lo, hi) that land inside. */
    private final int[] phase;
    private final int[] shift;
    private final int[] colLo;
    private final int[] colHi;

    CpuConvTranspose2d(CpuDevice device, ConvTranspose2d op, Shape input) {
        super(device, op, List.of(input));
        this.g = op.geometry(input);
        this.perPhase = Math.ceilDiv(g.ow(), g.sw());
        // Every input channel sweeps the band's accumulator once: keep it in L2.
        int fitting = Math.max(1, ACCUMULATOR_BYTES / (g.sw() * perPhase * Float.BYTES));
        this.rowsPerItem = Math.min(rowsPerBand((long) g.n() * g.oc(), g.oh()), fitting);
        int size = rowsPerItem * g.sw() * perPhase;
        this.accumulator = ThreadLocal.withInitial(() -> new float[size]);
        this.inputRows = ThreadLocal.withInitial(() -> new float[g.h() * g.w()]);

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
        this.phase = new int[g.kw()];
        this.shift = new int[g.kw()];
        this.colLo = new int[g.kw()];
        this.colHi = new int[g.kw()];
        for (int s = 0; s < g.kw(); s++) {
            int off = s * g.dw() - g.padLeft();
            phase[s] = Math.floorMod(off, g.sw());
            shift[s] = Math.floorDiv(off, g.sw());
            // Phase p holds output columns p, p + sw, ...: ceil((OW - p) / sw) of them.
            int count = Math.ceilDiv(g.ow() - phase[s], g.sw());
            colLo[s] = Math.max(0, -shift[s]);
            colHi[s] = Math.min(g.w(), count - shift[s]);
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
        forEachConvBand(args, output, g.bias(), g.n(), g.oc(), g.oh(), rowsPerItem, this::computeBand);
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
        final int rowSpan = sw * perPhase;
        float[] acc = accumulator.get();
        float[] rows = inputRows.get();
        Arrays.fill(acc, 0, (oh1 - oh0) * rowSpan, b == null ? 0f : b.getAtIndex(F, o));

        int group = o / ocpg;
        int ol = o - group * ocpg;
        // The input rows that can reach output rows [oh0, oh1): copied once per channel, read for every tap.
        int ihLo = Math.max(0, Math.floorDiv(oh0 + g.padTop() - (kh - 1) * g.dh(), sh));
        int ihHi = Math.min(inH - 1, Math.floorDiv(oh1 - 1 + g.padTop(), sh));
        for (int ci = 0; ci < cpg; ci++) {
            int c = group * cpg + ci;
            long xPlane = ((long) n * g.c() + c) * inH * inW;
            long wBase = ((long) c * ocpg + ol) * kh * kw;
            if (ihLo <= ihHi) {
                MemorySegment.copy(x, F, (xPlane + (long) ihLo * inW) * Float.BYTES, rows, 0, (ihHi - ihLo + 1) * inW);
            }
            for (int oh = oh0; oh < oh1; oh++) {
                int base = oh + g.padTop();
                int accRow = (oh - oh0) * rowSpan;
                for (int r = firstTap[oh]; r < kh; r += tapStep) {
                    // Exact: base - r * dh is a multiple of sh (possibly negative).
                    int ih = (base - r * g.dh()) / sh;
                    if (ih < 0 || ih >= inH) {
                        continue;
                    }
                    int src = (ih - ihLo) * inW;
                    for (int s = 0; s < kw; s++) {
                        int lo = colLo[s];
                        int hi = colHi[s];
                        if (lo >= hi) {
                            continue;
                        }
                        float wv = w.getAtIndex(F, wBase + (long) r * kw + s);
                        int dst = accRow + phase[s] * perPhase + shift[s];
                        for (int iw = lo; iw < hi; iw++) {
                            acc[dst + iw] += wv * rows[src + iw];
                        }
                    }
                }
            }
        }
        boolean relu = g.activation() == Activation.RELU;
        long out = (((long) n * g.oc() + o) * g.oh() + oh0) * ow;
        for (int oh = oh0; oh < oh1; oh++) {
            int accRow = (oh - oh0) * rowSpan;
            long dstRow = out + (long) (oh - oh0) * ow;
            for (int p = 0; p < sw && p < ow; p++) {
                int src = accRow + p * perPhase;
                for (int col = p, j = 0; col < ow; col += sw, j++) {
                    float v = acc[src + j];
                    y.setAtIndex(F, dstRow + col, relu && v < 0f ? 0f : v);
                }
            }
        }
    }
}
