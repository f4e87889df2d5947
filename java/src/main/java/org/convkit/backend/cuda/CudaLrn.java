package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.Lrn;
import org.convkit.tensor.Shape;

/**
 * LRN on CUDA: {@code kernels/lrn/lrn.cu}, entry {@code lrn_fwd}, one thread per output element
 * on a (spatial, channel, batch) grid, as {@code ClLrn} launches its OpenCL twin.
 */
final class CudaLrn extends CudaKernel {
    static final String MODULE = "lrn/lrn";
    static final String ENTRY = "lrn_fwd";
    /** Block: this many pixels of one channel plane (lrn.cl's default). */
    static final int WG = 64;

    CudaLrn(CudaDevice device, Lrn op, Shape input) {
        super(device, op, List.of(input));
        use(plan(op, input));
    }

    static List<CudaLaunch> plan(Lrn op, Shape input) {
        Lrn.Geometry g = op.geometry(input);
        long[] global = {roundUp(g.spatial(), WG), g.c(), g.n()};
        return List.of(CudaLaunch.of(MODULE, ENTRY, global, new long[] {WG, 1, 1})
                .input(0).output()
                .ints(g.c(), g.spatial(), g.before(), g.after())
                .f32(g.bias()).f32((float) g.scale()).f32(g.beta())
                .build());
    }
}
