package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.train.SgdUpdate;
import org.convkit.ops.train.StepScalars;
import org.convkit.tensor.Shape;

/**
 * An SGD step on the CPU, in place, in chunks of {@value CpuActivation#CHUNK} elements: plain
 * ({@code w -= lr * g}) or with momentum ({@code v = mu * v + g; w -= lr * v}), the learning rate
 * read from the step scalars as the device kernels read it.
 */
final class CpuSgdUpdate extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final float momentum;
    private final boolean velocity;
    private final long count;

    CpuSgdUpdate(CpuDevice device, SgdUpdate op, List<Shape> inputs) {
        super(device, op, inputs);
        this.momentum = op.momentum();
        this.velocity = op.hasVelocity();
        this.count = inputs.get(0).elementCount();
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment g = CpuDevice.segment(args.get(0));
        MemorySegment v = velocity ? CpuDevice.segment(args.get(1)) : null;
        float lr = CpuDevice.segment(args.get(args.size() - 1)).getAtIndex(F, StepScalars.LEARNING_RATE);
        MemorySegment w = CpuDevice.segment(output);
        int chunk = CpuActivation.CHUNK;
        cpu.parallelFor(workItems((count + chunk - 1) / chunk), item -> {
            long end = Math.min(count, (long) (item + 1) * chunk);
            for (long i = (long) item * chunk; i < end; i++) {
                float step = g.getAtIndex(F, i);
                if (velocity) {
                    step = momentum * v.getAtIndex(F, i) + step;
                    v.setAtIndex(F, i, step);
                }
                w.setAtIndex(F, i, w.getAtIndex(F, i) - lr * step);
            }
        });
    }
}
