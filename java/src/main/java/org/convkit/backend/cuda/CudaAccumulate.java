package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.train.Accumulate;
import org.convkit.tensor.Shape;

/** {@code y += x} on CUDA: {@code kernels/accumulate/accumulate.cu}, one thread per element, as {@code ClAccumulate}. */
final class CudaAccumulate extends CudaKernel {
    static final String MODULE = "accumulate/accumulate";
    static final String ENTRY = "accumulate";
    /** Block size (accumulate.cl's default). */
    static final int WG = 256;

    CudaAccumulate(CudaDevice device, Accumulate op, Shape input) {
        super(device, op, List.of(input));
        use(plan(input));
    }

    static List<CudaLaunch> plan(Shape input) {
        int count = (int) input.elementCount();
        return List.of(CudaLaunch.of(MODULE, ENTRY, new long[] {roundUp(count, WG)}, new long[] {WG})
                .input(0).output().ints(count).build());
    }
}
