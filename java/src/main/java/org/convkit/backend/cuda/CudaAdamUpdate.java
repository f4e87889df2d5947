package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.train.AdamUpdate;
import org.convkit.tensor.Shape;

/** An Adam step on CUDA: {@code kernels/optimizer/optimizer.cu}, entry {@code adam_update}, one thread per element, as {@code ClAdamUpdate}. */
final class CudaAdamUpdate extends CudaKernel {
    static final String ENTRY = "adam_update";

    CudaAdamUpdate(CudaDevice device, AdamUpdate op, List<Shape> inputs) {
        super(device, op, inputs);
        use(plan(op, inputs));
    }

    static List<CudaLaunch> plan(AdamUpdate op, List<Shape> inputs) {
        int count = (int) inputs.get(0).elementCount();
        int wg = CudaSgdUpdate.WG;
        return List.of(CudaLaunch.of(CudaSgdUpdate.MODULE, ENTRY, new long[] {roundUp(count, wg)}, new long[] {wg})
                .input(0).input(1).input(2).input(3).output().ints(count).f32(op.beta1()).f32(op.beta2())
                .f32(op.epsilon()).build());
    }
}
