package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.grad.Conv2dGrad;
import org.convkit.tensor.Shape;

/**
 * The data and weight gradients of conv2d and conv_transpose2d on the CPU ({@link Conv2dGrad}):
 *
 * <ul>
 *   <li>large side (conv2d's input gradient): a work item per (n, l) plane of the result, which it
 *       owns; it adds, tap by tap, each row of S times the tap's weight into the rows of its plane
 *       the tap reaches, over the span of columns inside the plane (computed once per tap), so the
 *       inner loop has no bounds tests;</li>
 *   <li>small side (conv_transpose2d's input gradient): a work item per (n, f) plane, gathering a
 *       convolution of L over its plane row by row in the same way;</li>
 *   <li>weight: a work item per (f, q) pair of channels, all taps of the pair summed in double over
 *       (n, a, b).</li>
 * </ul>
 * Every result element is written by one work item in a fixed order: deterministic. The masked
 * operand (dy under a fused ReLU) reads zero where the forward output was not positive.
 */
final class CpuConv2dGrad extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final Conv2dGrad op;
    private final Conv2dGrad.Relation r;

    CpuConv2dGrad(CpuDevice device, Conv2dGrad op, List<Shape> inputs) {
        super(device, op, inputs);
        this.op = op;
        this.r = op.relation();
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment dz = CpuDevice.segment(args.get(0));
        MemorySegment mask = op.masked() ? CpuDevice.segment(args.get(1)) : null;
        MemorySegment other = CpuDevice.segment(args.get(op.masked() ? 2 : 1));
        MemorySegment out = CpuDevice.segment(output);
        switch (op.form()) {
            case LARGE -> cpu.parallelFor(workItems((long) r.n() * r.lc()), p -> large(dz, mask, other, out, p));
            case SMALL -> cpu.parallelFor(workItems((long) r.n() * r.sc()), p -> small(dz, mask, other, out, p));
            case WEIGHT -> {
                MemorySegment s = op.transposed() ? other : dz;
                MemorySegment sMask = op.transposed() ? null : mask;
                MemorySegment l = op.transposed() ? dz : other;
                MemorySegment lMask = op.transposed() ? mask : null;
                cpu.parallelFor(workItems((long) r.sc() * r.lcPerGroup()), p -> weight(s, sMask, l, lMask, out, p));
            }
        }
    }

    private static float read(MemorySegment v, MemorySegment mask, long i) {
        return mask != null && !(mask.getAtIndex(F, i) > 0f) ? 0f : v.getAtIndex(F, i);
    }

    /** First and one-past-last small index b whose large index b * stride + offset lies in [0, size). */
    private static int lo(int offset, int stride) {
        return offset >= 0 ? 0 : Math.ceilDiv(-offset, stride);
    }

    private static int hi(int offset, int stride, int size, int small) {
        return Math.min(small, Math.floorDiv(size - 1 - offset, stride) + 1);
    }

    /** Plane (n, l) of the large side's gradient. */
    private void large(MemorySegment s, MemorySegment mask, MemorySegment w, MemorySegment out, int plane) {
        int n = plane / r.lc();
        int l = plane % r.lc();
        int lcg = r.lcPerGroup();
        int scg = r.scPerGroup();
        int g = l / lcg;
        int q = l % lcg;
        int lw = r.lw();
        float[] acc = new float[r.lh() * lw];
        for (int fi = 0; fi < scg; fi++) {
            int f = g * scg + fi;
            long sPlane = ((long) n * r.sc() + f) * r.sh() * r.sw();
            for (int kr = 0; kr < r.kh(); kr++) {
                int rowOffset = kr * r.dilationH() - r.padTop();
                for (int kc = 0; kc < r.kw(); kc++) {
                    float wv = w.getAtIndex(F, ((long) (f * lcg + q) * r.kh() + kr) * r.kw() + kc);
                    int colOffset = kc * r.dilationW() - r.padLeft();
                    int b0 = lo(colOffset, r.strideW());
                    int b1 = hi(colOffset, r.strideW(), lw, r.sw());
                    for (int a = lo(rowOffset, r.strideH()); a < hi(rowOffset, r.strideH(), r.lh(), r.sh()); a++) {
                        int dst = (a * r.strideH() + rowOffset) * lw + colOffset;
                        long src = sPlane + (long) a * r.sw();
                        for (int b = b0; b < b1; b++) {
                            acc[dst + b * r.strideW()] += wv * read(s, mask, src + b);
                        }
                    }
                }
            }
        }
        MemorySegment.copy(acc, 0, out, F, (long) plane * acc.length * Float.BYTES, acc.length);
    }

    /** Plane (n, f) of the small side's gradient. */
    private void small(MemorySegment l, MemorySegment mask, MemorySegment w, MemorySegment out, int plane) {
        int n = plane / r.sc();
        int f = plane % r.sc();
        int lcg = r.lcPerGroup();
        int g = f / r.scPerGroup();
        int sw = r.sw();
        float[] acc = new float[r.sh() * sw];
        for (int q = 0; q < lcg; q++) {
            long lPlane = ((long) n * r.lc() + g * lcg + q) * r.lh() * r.lw();
            for (int kr = 0; kr < r.kh(); kr++) {
                int rowOffset = kr * r.dilationH() - r.padTop();
                for (int kc = 0; kc < r.kw(); kc++) {
                    float wv = w.getAtIndex(F, ((long) (f * lcg + q) * r.kh() + kr) * r.kw() + kc);
                    int colOffset = kc * r.dilationW() - r.padLeft();
                    int b0 = lo(colOffset, r.strideW());
                    int b1 = hi(colOffset, r.strideW(), r.lw(), sw);
                    for (int a = lo(rowOffset, r.strideH()); a < hi(rowOffset, r.strideH(), r.lh(), r.sh()); a++) {
                        long src = lPlane + (long) (a * r.strideH() + rowOffset) * r.lw() + colOffset;
                        int dst = a * sw;
                        for (int b = b0; b < b1; b++) {
                            acc[dst + b] += wv * read(l, mask, src + (long) b * r.strideW());
                        }
                    }
                }
            }
        }
        MemorySegment.copy(acc, 0, out, F, (long) plane * acc.length * Float.BYTES, acc.length);
    }

    /** Every tap of the weights of channel pair (f, q). */
    private void weight(MemorySegment s, MemorySegment sMask, MemorySegment l, MemorySegment lMask, MemorySegment out,
            int pair) {
        int lcg = r.lcPerGroup();
        int f = pair / lcg;
        int q = pair % lcg;
        int lc = (f / r.scPerGroup()) * lcg + q;
        double[] acc = new double[r.kh() * r.kw()];
        for (int n = 0; n < r.n(); n++) {
            long sPlane = ((long) n * r.sc() + f) * r.sh() * r.sw();
            long lPlane = ((long) n * r.lc() + lc) * r.lh() * r.lw();
            for (int kr = 0; kr < r.kh(); kr++) {
                int rowOffset = kr * r.dilationH() - r.padTop();
                int a0 = lo(rowOffset, r.strideH());
                int a1 = hi(rowOffset, r.strideH(), r.lh(), r.sh());
                for (int kc = 0; kc < r.kw(); kc++) {
                    int colOffset = kc * r.dilationW() - r.padLeft();
                    int b0 = lo(colOffset, r.strideW());
                    int b1 = hi(colOffset, r.strideW(), r.lw(), r.sw());
                    double sum = 0;
                    for (int a = a0; a < a1; a++) {
                        long sRow = sPlane + (long) a * r.sw();
                        long lRow = lPlane + (long) (a * r.strideH() + rowOffset) * r.lw() + colOffset;
                        for (int b = b0; b < b1; b++) {
                            sum += (double) read(s, sMask, sRow + b) * read(l, lMask, lRow + (long) b * r.strideW());
                        }
                    }
                    acc[kr * r.kw() + kc] += sum;
                }
            }
        }
        long base = (long) pair * acc.length;
        for (int i = 0; i < acc.length; i++) {
            out.setAtIndex(F, base + i, (float) acc[i]);
        }
    }
}
