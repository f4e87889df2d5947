package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.ops.SqueezeExcite;
import org.convkit.tensor.Shape;
import org.jocl.CL;
import org.jocl.cl_kernel;
import org.jocl.cl_program;

/**
 * squeeze_excite on OpenCL: {@code kernels/se/se.cl}, four launches in order on the device's
 * in-order queue: {@code se_pool}, {@code se_dense} (W1, ReLU), {@code se_dense} (W2, sigmoid),
 * {@code se_scale}. The pooled vector, hidden vector and scales live in the caller's workspace
 * ({@link SqueezeExcite.Geometry} gives their offsets). Each launch has a kernel object of its own
 * with its sizes set here.
 */
final class ClSqueezeExcite extends Kernel {
    static final String SOURCE = "se/se.cl";
    /** Work-group of the reductions (pool, dense); a power of two. */
    static final int WG = 64;
    /** Work-group width of the scale (along a plane). */
    static final int SCALE_WG = 64;
    /** se.cl's code for the sigmoid of the second dense layer. */
    private static final int ACT_SIGMOID = 2;
    /** se.cl's code for ReLU (the shared CK_ACT_RELU). */
    private static final int ACT_RELU = 1;

    private final ClDevice cl;
    private final SqueezeExcite.Geometry g;
    private final cl_kernel pool;
    private final cl_kernel dense1;
    private final cl_kernel dense2;
    private final cl_kernel scale;

    ClSqueezeExcite(ClDevice device, SqueezeExcite op, Shape input) {
        super(device, op, List.of(input));
        this.cl = device;
        this.g = op.geometry(input);
        for (Shape s : argumentShapes()) {
            requireIntIndexable(s);
        }
        requireIntIndexable(outputShape());
        if (g.workspaceFloats() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(device.name() + " " + describe() + ": workspace of " + g.workspaceFloats()
                    + " floats; this kernel indexes with 32-bit integers (at most 2^31 - 1)");
        }
        if (Math.max(WG, SCALE_WG) > device.maxWorkGroupSize()) {
            throw new IllegalStateException(device.name() + ": squeeze_excite work-group " + Math.max(WG, SCALE_WG)
                    + " exceeds the device's maximum of " + device.maxWorkGroupSize());
        }
        cl_program program = device.program(SOURCE, Map.of("SE_WG", WG, "SE_SCALE_WG", SCALE_WG));
        cl_kernel[] made = new cl_kernel[4];
        try {
            made[0] = device.kernel(program, "se_pool");
            ClDevice.setArg(made[0], 2, (int) g.plane());
            ClDevice.setArg(made[0], 3, (int) g.pooledOffset());
            made[1] = dense(device, program, g.c(), g.hidden(), g.pooledOffset(), g.hiddenOffset(), ACT_RELU);
            made[2] = dense(device, program, g.hidden(), g.c(), g.hiddenOffset(), g.scalesOffset(), ACT_SIGMOID);
            made[3] = device.kernel(program, "se_scale");
            ClDevice.setArg(made[3], 3, (int) g.plane());
            ClDevice.setArg(made[3], 4, (int) g.scalesOffset());
        } catch (RuntimeException e) {
            for (cl_kernel k : made) {
                if (k != null) {
                    CL.clReleaseKernel(k);
                }
            }
            throw e;
        }
        this.pool = made[0];
        this.dense1 = made[1];
        this.dense2 = made[2];
        this.scale = made[3];
    }

    private static cl_kernel dense(ClDevice device, cl_program program, int in, int out, long inOff, long outOff,
            int act) {
        cl_kernel k = device.kernel(program, "se_dense");
        try {
            ClDevice.setArg(k, 3, in);
            ClDevice.setArg(k, 4, out);
            ClDevice.setArg(k, 5, (int) inOff);
            ClDevice.setArg(k, 6, (int) outOff);
            ClDevice.setArg(k, 7, act);
        } catch (RuntimeException e) {
            CL.clReleaseKernel(k);
            throw e;
        }
        return k;
    }

    private void requireIntIndexable(Shape s) {
        if (s.elementCount() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(cl.name() + " " + describe() + ": tensor " + s + " has "
                    + s.elementCount() + " elements; this kernel indexes with 32-bit integers (at most 2^31 - 1)");
        }
    }

    private static long roundUp(long v, long m) {
        return (v + m - 1) / m * m;
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

    @Override
    public void close() {
        CL.clReleaseKernel(pool);
        CL.clReleaseKernel(dense1);
        CL.clReleaseKernel(dense2);
        CL.clReleaseKernel(scale);
    }
}
