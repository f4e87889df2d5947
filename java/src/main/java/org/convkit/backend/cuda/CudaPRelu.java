package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.PRelu;
import org.convkit.tensor.Shape;

/**
 * PReLU on CUDA: {@code kernels/activation/activation.cu}, entry {@code prelu_fwd}, on a 2-D grid
 * (the innermost broadcast group along x, the rest along y), with the slope's broadcast as up to
 * 8 (size, stride) groups, as {@code ClPRelu} launches its OpenCL twin.
 */
final class CudaPRelu extends CudaKernel {
    static final String ENTRY = "prelu_fwd";
    /** Block along the innermost group (activation.cl's PRELU_WG default). */
    static final int WG = 64;
    private static final int MAX_GROUPS = 8;

    CudaPRelu(CudaDevice device, PRelu op, Shape input) {
        super(device, op, List.of(input));
        int groups = op.broadcast(input).dims().length;
        if (groups > MAX_GROUPS) {
            // A rank-8 shape alternates at most 8 times; this guards the invariant, it is not a limit users meet.
            throw new IllegalStateException(device.name() + " " + describe() + ": " + groups
                    + " broadcast groups, the kernel takes " + MAX_GROUPS);
        }
        use(plan(op, input));
    }

    static List<CudaLaunch> plan(PRelu op, Shape input) {
        int count = (int) input.elementCount();
        PRelu.Broadcast b = op.broadcast(input);
        int[] dims = b.dims().length == 0 ? new int[] {count} : b.dims();
        int[] strides = b.dims().length == 0 ? new int[] {0} : b.strides();
        CudaLaunch.Builder l = CudaLaunch.of(CudaActivation.MODULE, ENTRY,
                new long[] {roundUp(dims[0], WG), count / dims[0]}, new long[] {WG, 1})
                .input(0).input(1).output().ints(dims.length);
        for (int k = 0; k < MAX_GROUPS; k++) {
            l.ints(k < dims.length ? dims[k] : 1);
        }
        for (int k = 0; k < MAX_GROUPS; k++) {
            l.ints(k < dims.length ? strides[k] : 0);
        }
        return List.of(l.build());
    }
}
