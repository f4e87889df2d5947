package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.BatchNormTraining;
import org.convkit.tensor.Shape;

/**
 * Batch normalization's training form on the CPU ({@link BatchNormTraining}): the batch's
 * statistics per channel ({@link CpuBatchStatistics#compute}, in double), then each (n, c) plane
 * normalized by a work item. The statistics stay on the heap: the workspace the op declares (for
 * the GPU kernels) is not needed here.
 */
final class CpuBatchNormTraining extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final float epsilon;
    private final int n;
    private final int c;
    private final int s;

    CpuBatchNormTraining(CpuDevice device, BatchNormTraining op, List<Shape> inputs) {
        super(device, op, inputs);
        this.epsilon = op.epsilon();
        Shape in = inputs.get(0);
        this.n = in.dim(0);
        this.c = in.dim(1);
        this.s = (int) (in.elementCount() / ((long) n * c));
    }

    /** The statistics and sums stay on the heap here; the op's workspace is for the GPU kernels. */
    @Override
    public long workspaceBytes() {
        return 0;
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment scale = CpuDevice.segment(args.get(1));
        MemorySegment bias = CpuDevice.segment(args.get(2));
        MemorySegment y = CpuDevice.segment(output);
        double[][] stats = CpuBatchStatistics.compute(cpu, x, n, c, s);
        cpu.parallelFor(workItems((long) n * c), plane -> {
            int ch = plane % c;
            double f = scale.getAtIndex(F, ch) / Math.sqrt(stats[1][ch] + epsilon);
            double m = stats[0][ch];
            double b = bias.getAtIndex(F, ch);
            long base = (long) plane * s;
            for (int i = 0; i < s; i++) {
                y.setAtIndex(F, base + i, (float) ((x.getAtIndex(F, base + i) - m) * f + b));
            }
        });
    }
}
