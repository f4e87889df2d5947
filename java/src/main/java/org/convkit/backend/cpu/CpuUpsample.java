package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Upsample;
import org.convkit.tensor.Shape;

/**
 * Upsampling on the CPU. The source rows and columns, and for bilinear their weights, depend on
 * the position only: they are tabulated once at prepare time from the descriptor's exact
 * coordinate transforms, with the same integer arithmetic as the OpenCL kernel. Work item =
 * (image plane, band of output rows); rows go through Java arrays, copied in and out whole.
 * Nearest builds an output row once per distinct source row and writes it for every output row
 * that reads it ({@code scale} times for integer scales); bilinear interpolates each source row
 * along the columns once and blends pairs of them per output row.
 */
final class CpuUpsample extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final Upsample.Geometry g;
    private final boolean bilinear;
    private final int rowsPerItem;
    /** Per output row / column: the first and second source index (clamped) and their weights. */
    private final int[] row0;
    private final int[] row1;
    private final float[] rowW0;
    private final float[] rowW1;
    private final int[] col0;
    private final int[] col1;
    private final float[] colW0;
    private final float[] colW1;
    /** Per thread: one source row, one output row, and two column-interpolated source rows. */
    private final ThreadLocal<float[]> sourceRow;
    private final ThreadLocal<float[]> outputRow;
    private final ThreadLocal<float[][]> slots;

    CpuUpsample(CpuDevice device, Upsample op, Shape input) {
        super(device, op, List.of(input));
        this.g = op.geometry(input);
        this.bilinear = g.mode() == Upsample.Mode.BILINEAR;
        this.rowsPerItem = rowsPerBand((long) g.n() * g.c(), g.oh());
        row0 = new int[g.oh()];
        row1 = new int[g.oh()];
        rowW0 = new float[g.oh()];
        rowW1 = new float[g.oh()];
        tabulate(g.rows(), g.h(), row0, row1, rowW0, rowW1);
        col0 = new int[g.ow()];
        col1 = new int[g.ow()];
        colW0 = new float[g.ow()];
        colW1 = new float[g.ow()];
        tabulate(g.cols(), g.w(), col0, col1, colW0, colW1);
        int w = g.w();
        int ow = g.ow();
        sourceRow = ThreadLocal.withInitial(() -> new float[w]);
        outputRow = ThreadLocal.withInitial(() -> new float[ow]);
        slots = ThreadLocal.withInitial(() -> new float[][] {new float[ow], new float[ow]});
    }

    /** floor(x_original) and the next index, clamped to [0, in), with weights (div - rem) / div and rem / div. */
    private static void tabulate(Upsample.Transform t, int in, int[] i0, int[] i1, float[] w0, float[] w1) {
        for (int x = 0; x < i0.length; x++) {
            long p = t.numerator(x);
            long f = Math.floorDiv(p, t.div());
            long rem = p - f * t.div();
            i0[x] = (int) Math.clamp(f, 0, in - 1);
            i1[x] = (int) Math.clamp(f + 1, 0, in - 1);
            w0[x] = (float) (t.div() - rem) / (float) t.div();
            w1[x] = (float) rem / (float) t.div();
        }
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment y = CpuDevice.segment(output);
        forEachBand((long) g.n() * g.c(), g.oh(), rowsPerItem, (plane, oh0, oh1) -> {
            if (bilinear) {
                bilinearBand(x, y, plane, oh0, oh1);
            } else {
                nearestBand(x, y, plane, oh0, oh1);
            }
        });
    }

    private void nearestBand(MemorySegment x, MemorySegment y, int plane, int oh0, int oh1) {
        final int ow = g.ow();
        float[] src = sourceRow.get();
        float[] dst = outputRow.get();
        long in = (long) plane * g.h() * g.w();
        long out = (long) plane * g.oh() * ow;
        for (int oh = oh0; oh < oh1; oh++) {
            if (oh == oh0 || row0[oh] != row0[oh - 1]) {
                MemorySegment.copy(x, F, (in + (long) row0[oh] * g.w()) * Float.BYTES, src, 0, g.w());
                for (int c = 0; c < ow; c++) {
                    dst[c] = src[col0[c]];
                }
            }
            MemorySegment.copy(dst, 0, y, F, (out + (long) oh * ow) * Float.BYTES, ow);
        }
    }

    /**
     * Bilinear, separably: a source row interpolated along the columns serves every output row
     * that reads it (two slots hold the last two), then each output row blends two of them. The
     * arithmetic per element is the OpenCL kernel's: {@code wy0 * (wx0 * a + wx1 * b) + wy1 * (...)}.
     */
    private void bilinearBand(MemorySegment x, MemorySegment y, int plane, int oh0, int oh1) {
        final int ow = g.ow();
        float[] dst = outputRow.get();
        float[][] slot = slots.get();
        int[] slotRow = {-1, -1};
        long in = (long) plane * g.h() * g.w();
        long out = (long) plane * g.oh() * ow;
        for (int oh = oh0; oh < oh1; oh++) {
            int a = row0[oh];
            int b = row1[oh];
            int sa = slotRow[0] == a ? 0 : slotRow[1] == a ? 1 : -1;
            if (sa < 0) {
                sa = slotRow[0] == b ? 1 : 0;
                interpolateRow(x, in + (long) a * g.w(), slot[sa]);
                slotRow[sa] = a;
            }
            int sb = slotRow[sa] == b ? sa : slotRow[1 - sa] == b ? 1 - sa : -1;
            if (sb < 0) {
                sb = 1 - sa;
                interpolateRow(x, in + (long) b * g.w(), slot[sb]);
                slotRow[sb] = b;
            }
            float[] top = slot[sa];
            float[] bottom = slot[sb];
            float wy0 = rowW0[oh];
            float wy1 = rowW1[oh];
            for (int c = 0; c < ow; c++) {
                dst[c] = wy0 * top[c] + wy1 * bottom[c];
            }
            MemorySegment.copy(dst, 0, y, F, (out + (long) oh * ow) * Float.BYTES, ow);
        }
    }

    /** Source row at element {@code offset}, interpolated along the columns into {@code into}. */
    private void interpolateRow(MemorySegment x, long offset, float[] into) {
        float[] src = sourceRow.get();
        MemorySegment.copy(x, F, offset * Float.BYTES, src, 0, g.w());
        for (int c = 0; c < into.length; c++) {
            into[c] = colW0[c] * src[col0[c]] + colW1[c] * src[col1[c]];
        }
    }
}
