package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.SqueezeExcite;
import org.convkit.tensor.Shape;

/**
 * squeeze_excite on CUDA: {@code kernels/se/se.cu}, four launches in order on the device's
 * stream, as {@code ClSqueezeExcite} makes them: {@code se_pool}, {@code se_dense} (W1, ReLU),
 * {@code se_dense} (W2, sigmoid), {@code se_scale}. The pooled vector, hidden vector and scales
 * live in the caller's workspace ({@link SqueezeExcite.Geometry} gives their offsets).
 */
final class CudaSqueezeExcite extends CudaKernel {
    static final String MODULE = "se/se";
    /** Block of the reductions (pool, dense); a power of two (se.cl's default). */
    static final int WG = 64;
    /** Block width of the scale, along a plane (se.cl's default). */
    static final int SCALE_WG = 64;
    /** se.cl's code for the sigmoid of the second dense layer. */
    private static final int ACT_SIGMOID = 2;
    /** se.cl's code for ReLU (the shared CK_ACT_RELU). */
    private static final int ACT_RELU = 1;

    CudaSqueezeExcite(CudaDevice device, SqueezeExcite op, Shape input) {
        super(device, op, List.of(input));
        SqueezeExcite.Geometry g = op.geometry(input);
        if (g.workspaceFloats() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(device.name() + " " + describe() + ": workspace of " + g.workspaceFloats()
                    + " floats; this kernel indexes with 32-bit integers (at most 2^31 - 1)");
        }
        use(plan(op, input));
    }

    static List<CudaLaunch> plan(SqueezeExcite op, Shape input) {
        SqueezeExcite.Geometry g = op.geometry(input);
        long planes = (long) g.n() * g.c();
        CudaLaunch pool = CudaLaunch.of(MODULE, "se_pool", new long[] {planes * WG}, new long[] {WG})
                .input(0).workspace().ints((int) g.plane(), (int) g.pooledOffset()).build();
        CudaLaunch dense1 = dense(1, 2, g.c(), g.hidden(), g.pooledOffset(), g.hiddenOffset(), ACT_RELU,
                (long) g.n() * g.hidden(), "se_dense(w1, relu)");
        CudaLaunch dense2 = dense(3, 4, g.hidden(), g.c(), g.hiddenOffset(), g.scalesOffset(), ACT_SIGMOID, planes,
                "se_dense(w2, sigmoid)");
        CudaLaunch scale = CudaLaunch.of(MODULE, "se_scale", new long[] {roundUp(g.plane(), SCALE_WG), planes},
                new long[] {SCALE_WG, 1}).input(0).workspace().output().ints((int) g.plane(), (int) g.scalesOffset())
                .build();
        return List.of(pool, dense1, dense2, scale);
    }

    /** An se_dense launch: weights and bias are argument buffers {@code w} and {@code b}. */
    private static CudaLaunch dense(int w, int b, int in, int out, long inOff, long outOff, int act, long outputs,
            String label) {
        return CudaLaunch.of(MODULE, "se_dense", new long[] {outputs * WG}, new long[] {WG})
                .workspace().input(w).input(b).ints(in, out, (int) inOff, (int) outOff, act).label(label).build();
    }
}
