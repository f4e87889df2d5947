package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.SqueezeExcite;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * squeeze_excite on OpenCL: {@code kernels/se/se.cl}, four launches in order on the device's
 * in-order queue: {@code se_pool}, {@code se_dense} (W1, ReLU), {@code se_dense} (W2, sigmoid),
 * {@code se_scale}. The pooled vector, hidden vector and scales live in the caller's workspace
 * ({@link SqueezeExcite.Geometry} gives their offsets). Each launch has a kernel object of its own
 * with its sizes set here.
 */
final class ClSqueezeExcite extends ClKernel {
    static final String SOURCE = "se/se.cl";
    /** Work-group of the reductions (pool, dense); a power of two. */
    static final int WG = 64;
    /** Work-group width of the scale (along a plane). */
    static final int SCALE_WG = 64;
    /** se.cl's code for the sigmoid of the second dense layer. */
    private static final int ACT_SIGMOID = 2;
    /** se.cl's code for ReLU (the shared CK_ACT_RELU). */
    private static final int ACT_RELU = 1;
    /** Build defines of se.cl (one program for every entry). */
    private static final Map<String, Integer> DEFINES = Map.of("SE_WG", WG, "SE_SCALE_WG", SCALE_WG);

    private final SqueezeExcite.Geometry g;
    private final cl_kernel pool;
    private final cl_kernel dense1;
    private final cl_kernel dense2;
    private final cl_kernel scale;

    ClSqueezeExcite(ClDevice device, SqueezeExcite op, Shape input) {
        super(device, op, List.of(input));
        this.g = op.geometry(input);
        if (g.workspaceFloats() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(device.name() + " " + describe() + ": workspace of " + g.workspaceFloats()
                    + " floats; this kernel indexes with 32-bit integers (at most 2^31 - 1)");
        }
        requireWorkGroup(Math.max(WG, SCALE_WG));
        try {
            this.pool = kernel(SOURCE, DEFINES, "se_pool");
            ClDevice.setArg(pool, 2, (int) g.plane());
            ClDevice.setArg(pool, 3, (int) g.pooledOffset());
            this.dense1 = dense(g.c(), g.hidden(), g.pooledOffset(), g.hiddenOffset(), ACT_RELU);
            this.dense2 = dense(g.hidden(), g.c(), g.hiddenOffset(), g.scalesOffset(), ACT_SIGMOID);
            this.scale = kernel(SOURCE, DEFINES, "se_scale");
            ClDevice.setArg(scale, 3, (int) g.plane());
            ClDevice.setArg(scale, 4, (int) g.scalesOffset());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** An se_dense kernel object with its sizes set (released with the others by {@link #close}). */
    private cl_kernel dense(int in, int out, long inOff, long outOff, int act) {
        cl_kernel k = kernel(SOURCE, DEFINES, "se_dense");
        ClDevice.setArg(k, 3, in);
        ClDevice.setArg(k, 4, out);
        ClDevice.setArg(k, 5, (int) inOff);
        ClDevice.setArg(k, 6, (int) outOff);
        ClDevice.setArg(k, 7, act);
        return k;
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        DeviceBuffer x = args.get(0);
        long planes = (long) g.n() * g.c();
        ClDevice.setArg(pool, 0, x);
        ClDevice.setArg(pool, 1, workspace);
        cl.launch(pool, "se_pool " + describe(), new long[] {planes * WG}, new long[] {WG});
        launchDense(dense1, workspace, args.get(1), args.get(2), (long) g.n() * g.hidden(), "se_dense(w1, relu) ");
        launchDense(dense2, workspace, args.get(3), args.get(4), planes, "se_dense(w2, sigmoid) ");
        ClDevice.setArg(scale, 0, x);
        ClDevice.setArg(scale, 1, workspace);
        ClDevice.setArg(scale, 2, output);
        cl.launch(scale, "se_scale " + describe(), new long[] {roundUp(g.plane(), SCALE_WG), planes},
                new long[] {SCALE_WG, 1});
    }

    private void launchDense(cl_kernel k, DeviceBuffer ws, DeviceBuffer w, DeviceBuffer b, long outputs, String what) {
        ClDevice.setArg(k, 0, ws);
        ClDevice.setArg(k, 1, w);
        ClDevice.setArg(k, 2, b);
        cl.launch(k, what + describe(), new long[] {outputs * WG}, new long[] {WG});
    }
}
