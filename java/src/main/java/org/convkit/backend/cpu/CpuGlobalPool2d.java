package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.GlobalPool2d;
import org.convkit.tensor.Shape;

/**
 * globalavgpool2d and globalmaxpool2d on the CPU: one work item per (n, c) plane. The average
 * sums in double (free here: the loop waits on memory, and a large plane's float sum would
 * drift); the maximum propagates NaN.
 */
final class CpuGlobalPool2d extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final boolean max;
    private final long planes;
    private final long hw;

    CpuGlobalPool2d(CpuDevice device, GlobalPool2d pool, Shape input) {
        super(device, pool, List.of(input));
        this.max = pool.mode() == GlobalPool2d.Mode.MAX;
        this.planes = (long) input.n() * input.c();
        this.hw = (long) input.h() * input.w();
        if (planes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cpu " + describe() + ": too many planes (" + planes + ")");
        }
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment y = CpuDevice.segment(output);
        cpu.parallelFor((int) planes, p -> {
            long base = p * hw;
            if (max) {
                float m = Float.NEGATIVE_INFINITY;
                for (long i = 0; i < hw; i++) {
                    // NaN-propagating, as Math.max is.
                    m = Math.max(m, x.getAtIndex(F, base + i));
                }
                y.setAtIndex(F, p, m);
            } else {
                double sum = 0;
                for (long i = 0; i < hw; i++) {
                    sum += x.getAtIndex(F, base + i);
                }
                y.setAtIndex(F, p, (float) (sum / hw));
            }
        });
    }
}
