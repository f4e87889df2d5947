package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Pool2d;
import org.convkit.ops.grad.Pool2dGrad;
import org.convkit.tensor.Shape;

/**
 * The input gradient of max and average pooling on the CPU ({@link Pool2dGrad}): a work item per
 * (n, c) plane, which owns its plane of dx and walks the windows in order, adding dy / divisor to
 * every tap inside the input (average) or dy to the first tap equal to y (max, NaN equal to NaN).
 * Deterministic: each plane is summed by one work item in a fixed order.
 */
final class CpuPool2dGrad extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final Pool2d.Geometry g;

    CpuPool2dGrad(CpuDevice device, Pool2dGrad op, List<Shape> inputs) {
        super(device, op, inputs);
        this.g = op.geometry();
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        boolean max = g.mode() == Pool2d.Mode.MAX;
        MemorySegment dy = CpuDevice.segment(args.get(0));
        MemorySegment x = max ? CpuDevice.segment(args.get(1)) : null;
        MemorySegment y = max ? CpuDevice.segment(args.get(2)) : null;
        MemorySegment dx = CpuDevice.segment(output);
        int hw = g.h() * g.w();
        cpu.parallelFor(workItems((long) g.n() * g.c()), p -> {
            float[] acc = new float[hw];
            long xBase = (long) p * hw;
            for (int oh = 0; oh < g.oh(); oh++) {
                int ih0 = oh * g.sh() - g.padTop();
                int r0 = taps0(ih0, g.dh());
                int r1 = taps1(ih0, g.kh(), g.dh(), g.h());
                for (int ow = 0; ow < g.ow(); ow++) {
                    int iw0 = ow * g.sw() - g.padLeft();
                    int s0 = taps0(iw0, g.dw());
                    int s1 = taps1(iw0, g.kw(), g.dw(), g.w());
                    long o = ((long) p * g.oh() + oh) * g.ow() + ow;
                    float d = dy.getAtIndex(F, o);
                    if (max) {
                        float m = y.getAtIndex(F, o);
                        search:
                        for (int r = r0; r < r1; r++) {
                            for (int s = s0; s < s1; s++) {
                                int at = (ih0 + r * g.dh()) * g.w() + iw0 + s * g.dw();
                                float v = x.getAtIndex(F, xBase + at);
                                if (v == m || (v != v && m != m)) {
                                    acc[at] += d;
                                    break search;
                                }
                            }
                        }
                    } else {
                        int count;
                        if (g.countIncludePad()) {
                            int rows = taps1(ih0 + g.padTop(), g.kh(), g.dh(), g.h() + g.padTop() + g.padBottom())
                                    - taps0(ih0 + g.padTop(), g.dh());
                            int cols = taps1(iw0 + g.padLeft(), g.kw(), g.dw(), g.w() + g.padLeft() + g.padRight())
                                    - taps0(iw0 + g.padLeft(), g.dw());
                            count = rows * cols;
                        } else {
                            count = (r1 - r0) * (s1 - s0);
                        }
                        float share = d / count;
                        for (int r = r0; r < r1; r++) {
                            for (int s = s0; s < s1; s++) {
                                acc[(ih0 + r * g.dh()) * g.w() + iw0 + s * g.dw()] += share;
                            }
                        }
                    }
                }
            }
            MemorySegment.copy(acc, 0, dx, F, xBase * Float.BYTES, hw);
        });
    }

    /** The first tap of a window starting at {@code start} that lies at index 0 or later. */
    private static int taps0(int start, int d) {
        return start >= 0 ? 0 : Math.ceilDiv(-start, d);
    }

    /** One past the last tap (of {@code k}) of a window starting at {@code start} below {@code limit}. */
    private static int taps1(int start, int k, int d, int limit) {
        return Math.max(taps0(start, d), start >= limit ? 0 : Math.min(k, (limit - 1 - start) / d + 1));
    }
}
