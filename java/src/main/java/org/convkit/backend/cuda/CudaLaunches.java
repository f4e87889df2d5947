package org.convkit.backend.cuda;

import java.util.ArrayList;
import java.util.List;

import org.convkit.backend.Launch;
import org.convkit.ops.Op;
import org.convkit.tensor.Shape;

/**
 * The CUDA host of kernels planned as data ({@link Launch}; the backward pass's, from
 * {@code org.convkit.backend.grad.GradLaunches}): each launch becomes the {@link CudaLaunch} of the
 * same entry in the {@code .cu} twin, with the same arguments, block = local size and grid =
 * global / local, exactly what {@code ClLaunches} queues on OpenCL.
 */
final class CudaLaunches extends CudaKernel {
    CudaLaunches(CudaDevice device, Op op, List<Shape> inputs, List<Launch> plan) {
        super(device, op, inputs);
        use(of(plan));
    }

    /** The CUDA launches of a plan. */
    static List<CudaLaunch> of(List<Launch> plan) {
        List<CudaLaunch> out = new ArrayList<>(plan.size());
        for (Launch l : plan) {
            CudaLaunch.Builder b = CudaLaunch.of(l.module(), l.entry(), l.global(), l.local());
            for (Launch.Arg a : l.args()) {
                switch (a) {
                    case Launch.Input in -> b.input(in.index());
                    case Launch.Output o -> b.output();
                    case Launch.Workspace w -> b.workspace();
                    case Launch.None n -> b.inputOrNone(false, 0);
                    case Launch.I32 v -> b.ints(v.value());
                    case Launch.F32 v -> b.f32(v.value());
                    case Launch.I64 v -> b.longs(v.value());
                    case Launch.I32x8 v -> b.int8(v.values());
                }
            }
            out.add(b.build());
        }
        return out;
    }
}
