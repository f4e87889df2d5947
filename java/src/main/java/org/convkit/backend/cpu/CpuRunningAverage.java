package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.train.RunningAverage;
import org.convkit.tensor.Shape;

/** A batch normalization's running statistic updated from the batch's, on the CPU, in float as {@code running_average}. */
final class CpuRunningAverage extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final RunningAverage op;
    private final int channels;

    CpuRunningAverage(CpuDevice device, RunningAverage op, Shape statistics) {
        super(device, op, List.of(statistics));
        this.op = op;
        this.channels = statistics.dim(1);
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment s = CpuDevice.segment(args.get(0));
        MemorySegment y = CpuDevice.segment(output);
        float m = op.momentum();
        float k = op.correction();
        long base = (long) op.row() * channels;
        for (int c = 0; c < channels; c++) {
            y.setAtIndex(F, c, (1f - m) * y.getAtIndex(F, c) + m * (k * s.getAtIndex(F, base + c)));
        }
    }
}
