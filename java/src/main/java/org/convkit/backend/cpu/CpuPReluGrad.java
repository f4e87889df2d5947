package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.PRelu;
import org.convkit.ops.grad.PReluGrad;
import org.convkit.tensor.Shape;

/**
 * The input gradient of PReLU on the CPU ({@link PReluGrad}): {@code dx = x < 0 ? slope * dy : dy},
 * in chunks of elements spread over the threads, the slope index as the forward computes it.
 */
final class CpuPReluGrad extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final PRelu.Broadcast broadcast;
    private final long count;

    CpuPReluGrad(CpuDevice device, PReluGrad op, List<Shape> inputs) {
        super(device, op, inputs);
        this.broadcast = op.broadcast();
        this.count = op.outputShape().elementCount();
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment dy = CpuDevice.segment(args.get(0));
        MemorySegment x = CpuDevice.segment(args.get(1));
        MemorySegment slope = CpuDevice.segment(args.get(2));
        MemorySegment dx = CpuDevice.segment(output);
        int chunk = CpuActivationGrad.CHUNK;
        cpu.parallelFor(workItems((count + chunk - 1) / chunk), c -> {
            long end = Math.min(count, (long) (c + 1) * chunk);
            for (long i = (long) c * chunk; i < end; i++) {
                float g = dy.getAtIndex(F, i);
                dx.setAtIndex(F, i, x.getAtIndex(F, i) < 0f ? slope.getAtIndex(F, broadcast.slopeIndex(i)) * g : g);
            }
        });
    }
}
