package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.train.AdamUpdate;
import org.convkit.ops.train.StepScalars;
import org.convkit.tensor.Shape;

/**
 * An Adam step on the CPU, in place, in chunks of {@value CpuActivation#CHUNK} elements, in float
 * as {@code adam_update} computes it; the learning rate and the bias corrections are read from the
 * step scalars.
 */
final class CpuAdamUpdate extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private final long count;

    CpuAdamUpdate(CpuDevice device, AdamUpdate op, List<Shape> inputs) {
        super(device, op, inputs);
        this.beta1 = op.beta1();
        this.beta2 = op.beta2();
        this.epsilon = op.epsilon();
        this.count = inputs.get(0).elementCount();
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment g = CpuDevice.segment(args.get(0));
        MemorySegment m = CpuDevice.segment(args.get(1));
        MemorySegment v = CpuDevice.segment(args.get(2));
        MemorySegment s = CpuDevice.segment(args.get(3));
        float lr = s.getAtIndex(F, StepScalars.LEARNING_RATE);
        float c1 = s.getAtIndex(F, StepScalars.FIRST_MOMENT_CORRECTION);
        float c2 = s.getAtIndex(F, StepScalars.SECOND_MOMENT_CORRECTION);
        MemorySegment w = CpuDevice.segment(output);
        int chunk = CpuActivation.CHUNK;
        cpu.parallelFor(workItems((count + chunk - 1) / chunk), item -> {
            long end = Math.min(count, (long) (item + 1) * chunk);
            for (long i = (long) item * chunk; i < end; i++) {
                float gi = g.getAtIndex(F, i);
                float mi = beta1 * m.getAtIndex(F, i) + (1f - beta1) * gi;
                float vi = beta2 * v.getAtIndex(F, i) + (1f - beta2) * gi * gi;
                m.setAtIndex(F, i, mi);
                v.setAtIndex(F, i, vi);
                w.setAtIndex(F, i, w.getAtIndex(F, i) - lr * (mi * c1) / ((float) Math.sqrt(vi * c2) + epsilon));
            }
        });
    }
}
