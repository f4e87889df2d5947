package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.grad.Conv2dGrad;
import org.convkit.tensor.Shape;

/**
 * The data and weight gradients of conv2d and conv_transpose2d on the CPU ({@link Conv2dGrad}):
 *
 * <ul>
 *   <li>large side (conv2d's input gradient): a work item per (n, l) plane of the result, which it
 *       owns; it reads each row of S once (masked where a fused ReLU was off) and adds it, times each
 *       tap's weight, into the row of its plane the tap reaches, over the span of columns inside the
 *       plane (computed once per tap, so the inner loop has no bounds tests; a vector of fused
 *       multiply-adds at a time at unit stride);</li>
 *   <li>small side (conv_transpose2d's input gradient): a work item per (n, f) plane, gathering a
 *       convolution of L over its plane row by row in the same way;</li>
 *   <li>weight: a work item per (f, q) pair of channels: for each row of S and each row of L a tap
 *       meets, one dot product per tap column (vector lanes of partial sums at unit stride), the taps'
 *       sums kept in double.</li>
 * </ul>
 * Every result element is written by one work item in a fixed order: deterministic.
 */
final class CpuConv2dGrad extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

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

    /** Plane (n, l) of the large side's gradient: each (masked) row of S once, times every tap it reaches. */
    private void large(MemorySegment s, MemorySegment mask, MemorySegment w, MemorySegment out, int plane) {
        int n = plane / r.lc();
        int l = plane % r.lc();
        int lcg = r.lcPerGroup();
        int scg = r.scPerGroup();
        int g = l / lcg;
        int q = l % lcg;
        int lw = r.lw();
        float[] acc = new float[r.lh() * lw];
        float[] row = new float[r.sw()];
        for (int fi = 0; fi < scg; fi++) {
            int f = g * scg + fi;
            long sPlane = ((long) n * r.sc() + f) * r.sh() * r.sw();
            long wBase = (long) (f * lcg + q) * r.kh() * r.kw();
            for (int a = 0; a < r.sh(); a++) {
                load(s, mask, sPlane + (long) a * r.sw(), row);
                for (int kr = 0; kr < r.kh(); kr++) {
                    int ih = a * r.strideH() + kr * r.dilationH() - r.padTop();
                    if (ih < 0 || ih >= r.lh()) {
                        continue;
                    }
                    for (int kc = 0; kc < r.kw(); kc++) {
                        int colOffset = kc * r.dilationW() - r.padLeft();
                        int b0 = lo(colOffset, r.strideW());
                        int b1 = hi(colOffset, r.strideW(), lw, r.sw());
                        if (b0 >= b1) {
                            continue;
                        }
                        float wv = w.getAtIndex(F, wBase + (long) kr * r.kw() + kc);
                        int dst = ih * lw + colOffset;
                        if (r.strideW() == 1) {
                            axpy(acc, dst + b0, wv, row, b0, b1 - b0);
                        } else {
                            for (int b = b0; b < b1; b++) {
                                acc[dst + b * r.strideW()] = Math.fma(wv, row[b], acc[dst + b * r.strideW()]);
                            }
                        }
                    }
                }
            }
        }
        MemorySegment.copy(acc, 0, out, F, (long) plane * acc.length * Float.BYTES, acc.length);
    }

    /** {@code row[i] = v[at + i]}, 0 where the mask (when given) is not positive. */
    private static void load(MemorySegment v, MemorySegment mask, long at, float[] row) {
        MemorySegment.copy(v, F, at * Float.BYTES, row, 0, row.length);
        if (mask != null) {
            for (int i = 0; i < row.length; i++) {
                if (!(mask.getAtIndex(F, at + i) > 0f)) {
                    row[i] = 0f;
                }
            }
        }
    }

    /** {@code acc[d + k] += w * v[s + k]} for {@code k < len}, as fused multiply-adds, a vector at a time. */
    private static void axpy(float[] acc, int d, float w, float[] v, int s, int len) {
        FloatVector wv = FloatVector.broadcast(SPECIES, w);
        int k = 0;
        for (int bound = SPECIES.loopBound(len); k < bound; k += SPECIES.length()) {
            FloatVector.fromArray(SPECIES, v, s + k).fma(wv, FloatVector.fromArray(SPECIES, acc, d + k))
                    .intoArray(acc, d + k);
        }
        for (; k < len; k++) {
            acc[d + k] = Math.fma(w, v[s + k], acc[d + k]);
        }
    }

    /** {@code sum_k a[i + k] * b[j + k]} for {@code k < len}: per-lane partial sums, then the lanes added. */
    private static float dot(float[] a, int i, float[] b, int j, int len) {
        FloatVector sum = FloatVector.zero(SPECIES);
        int k = 0;
        for (int bound = SPECIES.loopBound(len); k < bound; k += SPECIES.length()) {
            sum = FloatVector.fromArray(SPECIES, a, i + k).fma(FloatVector.fromArray(SPECIES, b, j + k), sum);
        }
        // The lanes in index order: reduceLanes(ADD) leaves the order open, and it differed between
        // the interpreted and the compiled code of one run (a last-bit change between two calls).
        float total = 0f;
        for (float lane : sum.toArray()) {
            total += lane;
        }
        for (; k < len; k++) {
            total = Math.fma(a[i + k], b[j + k], total);
        }
        return total;
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

    /**
     * Every tap of the weights of channel pair (f, q): for each (masked) row of S and each tap row of
     * L it meets, one dot product per tap column (vectorized at unit stride), summed in double.
     */
    private void weight(MemorySegment s, MemorySegment sMask, MemorySegment l, MemorySegment lMask, MemorySegment out,
            int pair) {
        int lcg = r.lcPerGroup();
        int f = pair / lcg;
        int q = pair % lcg;
        int lc = (f / r.scPerGroup()) * lcg + q;
        double[] acc = new double[r.kh() * r.kw()];
        float[] sRow = new float[r.sw()];
        float[] lRow = new float[r.lw()];
        for (int n = 0; n < r.n(); n++) {
            long sPlane = ((long) n * r.sc() + f) * r.sh() * r.sw();
            long lPlane = ((long) n * r.lc() + lc) * r.lh() * r.lw();
            for (int a = 0; a < r.sh(); a++) {
                load(s, sMask, sPlane + (long) a * r.sw(), sRow);
                for (int kr = 0; kr < r.kh(); kr++) {
                    int ih = a * r.strideH() + kr * r.dilationH() - r.padTop();
                    if (ih < 0 || ih >= r.lh()) {
                        continue;
                    }
                    load(l, lMask, lPlane + (long) ih * r.lw(), lRow);
                    for (int kc = 0; kc < r.kw(); kc++) {
                        int colOffset = kc * r.dilationW() - r.padLeft();
                        int b0 = lo(colOffset, r.strideW());
                        int b1 = hi(colOffset, r.strideW(), r.lw(), r.sw());
                        if (b0 >= b1) {
                            continue;
                        }
                        float sum;
                        if (r.strideW() == 1) {
                            sum = dot(sRow, b0, lRow, colOffset + b0, b1 - b0);
                        } else {
                            sum = 0f;
                            for (int b = b0; b < b1; b++) {
                                sum = Math.fma(sRow[b], lRow[colOffset + b * r.strideW()], sum);
                            }
                        }
                        acc[kr * r.kw() + kc] += sum;
                    }
                }
            }
        }
        long base = (long) pair * acc.length;
        for (int i = 0; i < acc.length; i++) {
            out.setAtIndex(F, base + i, (float) acc[i]);
        }
    }
}
