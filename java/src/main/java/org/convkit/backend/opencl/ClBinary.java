package org.convkit.backend.opencl;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.ops.Binary;
import org.convkit.tensor.Shape;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;

/**
 * add / mul on OpenCL: {@code kernels/eltwise/eltwise.cl}. The broadcast is collapsed on the host
 * ({@link Binary#layout}); equal shapes take {@code eltwise_same}, anything else
 * {@code eltwise_bcast} with the collapsed dims and strides right-aligned in three {@code int8}
 * arguments. Sizes are set once here; {@link #launch} only binds the buffers.
 */
final class ClBinary extends Kernel {
    static final String SOURCE = "eltwise/eltwise.cl";
    static final String ENTRY_SAME = "eltwise_same";
    static final String ENTRY_BCAST = "eltwise_bcast";
    /** Work-group size of both entries (a build define, so host and kernel agree). */
    static final int WG = 256;
    /** Components of an OpenCL int8, the most dimensions eltwise_bcast takes. */
    private static final int VEC = 8;

    private final ClDevice cl;
    private final String entry;
    private final cl_kernel kernel;
    private final long[] global;
    private final long[] local = {WG};

    ClBinary(ClDevice device, Binary op, List<Shape> inputs) {
        super(device, op, inputs);
        this.cl = device;
        for (Shape s : argumentShapes()) {
            requireIntIndexable(s);
        }
        requireIntIndexable(outputShape());
        if (WG > device.maxWorkGroupSize()) {
            throw new IllegalStateException(device.name() + ": eltwise work-group " + WG
                    + " exceeds the device's maximum of " + device.maxWorkGroupSize());
        }
        Binary.Layout layout = op.layout(inputs);
        int count = (int) outputShape().elementCount();
        this.entry = layout.sameShape() ? ENTRY_SAME : ENTRY_BCAST;
        this.kernel = device.kernel(device.program(SOURCE, Map.of("ELTWISE_WG", WG)), entry);
        ClDevice.setArg(kernel, 3, count);
        ClDevice.setArg(kernel, 4, op.kind().code());
        ClDevice.setArg(kernel, 5, op.activation().code());
        if (!layout.sameShape()) {
            int rank = layout.rank();
            ClDevice.setArg(kernel, 6, rank);
            setInt8(kernel, 7, rightAligned(layout.dims(), 1));
            setInt8(kernel, 8, rightAligned(layout.aStrides(), 0));
            setInt8(kernel, 9, rightAligned(layout.bStrides(), 0));
        }
        this.global = new long[] {roundUp(count, WG)};
    }

    /** The values in the last components of an int8, {@code fill} before them. */
    private static int[] rightAligned(long[] values, int fill) {
        int[] v = new int[VEC];
        Arrays.fill(v, fill);
        for (int i = 0; i < values.length; i++) {
            // Fits: every dim and stride is below the element count, which is below 2^31.
            v[VEC - values.length + i] = (int) values[i];
        }
        return v;
    }

    private void setInt8(cl_kernel k, int index, int[] v) {
        Cl.check(CL.clSetKernelArg(k, index, (long) Sizeof.cl_int * VEC, Pointer.to(v)), cl.name(), "clSetKernelArg",
                "int8 argument " + index + " = " + Arrays.toString(v));
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
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, args.get(1));
        ClDevice.setArg(kernel, 2, output);
        cl.launch(kernel, entry + " " + describe(), global, local);
    }

    @Override
    public void close() {
        CL.clReleaseKernel(kernel);
    }
}
