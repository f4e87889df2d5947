package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.train.SgdUpdate;
import org.convkit.tensor.Shape;

/**
 * An SGD step on CUDA: {@code kernels/optimizer/optimizer.cu}, entry {@code sgd_update} or, with
 * momentum, {@code sgd_momentum_update}; one thread per element, as {@code ClSgdUpdate}.
 */
final class CudaSgdUpdate extends CudaKernel {
    static final String MODULE = "optimizer/optimizer";
    /** Block size (optimizer.cl's default). */
    static final int WG = 256;

    CudaSgdUpdate(CudaDevice device, SgdUpdate op, List<Shape> inputs) {
        super(device, op, inputs);
        use(plan(op, inputs));
    }

    static List<CudaLaunch> plan(SgdUpdate op, List<Shape> inputs) {
        int count = (int) inputs.get(0).elementCount();
        CudaLaunch.Builder b = CudaLaunch.of(MODULE, op.name(), new long[] {roundUp(count, WG)}, new long[] {WG});
        for (int i = 0; i < op.arity(); i++) {
            b.input(i);
        }
        b.output().ints(count);
        if (op.hasVelocity()) {
            b.f32(op.momentum());
        }
        return List.of(b.build());
    }
}
