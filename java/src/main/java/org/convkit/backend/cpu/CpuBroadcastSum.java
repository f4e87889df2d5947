package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.grad.BroadcastSum;
import org.convkit.tensor.Shape;

/**
 * {@link BroadcastSum} on the CPU: work items are runs of target elements; each element is one sum
 * in double, in order (the innermost summed dimension as the inner loop), so reruns give the same
 * bits whatever the threads do.
 */
final class CpuBroadcastSum extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final BroadcastSum op;
    private final BroadcastSum.Layout l;
    private final int perItem;

    CpuBroadcastSum(CpuDevice device, BroadcastSum op, List<Shape> inputs) {
        super(device, op, inputs);
        this.op = op;
        this.l = op.layout();
        long wanted = (long) device.threads() * ITEMS_PER_THREAD;
        this.perItem = (int) Math.max(1, Math.min(Integer.MAX_VALUE, (l.count() + wanted - 1) / wanted));
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment dy = CpuDevice.segment(args.get(0));
        MemorySegment mask = op.masked() ? CpuDevice.segment(args.get(1)) : null;
        MemorySegment factor = op.alignedFactor() != null ? CpuDevice.segment(args.get(op.masked() ? 2 : 1)) : null;
        MemorySegment out = CpuDevice.segment(output);
        long count = l.count();
        int[] kd = l.keptDims();
        int[] ko = l.keptDy();
        int[] kf = l.keptFactor();
        int[] rd = l.reducedDims();
        int[] ro = l.reducedDy();
        int[] rf = l.reducedFactor();
        int inner = rd.length > 0 ? rd[0] : 1;
        long innerDy = rd.length > 0 ? ro[0] : 0;
        long innerF = rd.length > 0 ? rf[0] : 0;
        long outer = l.reduceCount() / inner;
        boolean neg = op.negativePart();
        cpu.parallelFor(workItems((count + perItem - 1) / perItem), item -> {
            long end = Math.min(count, (long) (item + 1) * perItem);
            for (long j = (long) item * perItem; j < end; j++) {
                long od = 0;
                long of = 0;
                long rest = j;
                for (int k = 0; k < kd.length; k++) {
                    long digit = rest % kd[k];
                    rest /= kd[k];
                    od += digit * ko[k];
                    of += digit * kf[k];
                }
                double acc = 0;
                for (long o = 0; o < outer; o++) {
                    long d = od;
                    long f = of;
                    long r = o;
                    for (int k = 1; k < rd.length; k++) {
                        long digit = r % rd[k];
                        r /= rd[k];
                        d += digit * ro[k];
                        f += digit * rf[k];
                    }
                    for (int i = 0; i < inner; i++) {
                        long at = d + i * innerDy;
                        float v = dy.getAtIndex(F, at);
                        if (mask != null && !(mask.getAtIndex(F, at) > 0f)) {
                            v = 0f;
                        }
                        if (factor != null) {
                            float fv = factor.getAtIndex(F, f + i * innerF);
                            if (neg && !(fv < 0f) && fv == fv) {
                                fv = 0f;
                            }
                            v *= fv;
                        }
                        acc += v;
                    }
                }
                out.setAtIndex(F, j, (float) (op.scale() * acc));
            }
        });
    }
}
