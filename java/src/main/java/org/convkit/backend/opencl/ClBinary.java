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
 * {@code eltwise_rows} (rows of at least half its work-group, e.g. a channel scale) or
 * {@code eltwise_bcast} (short rows), both with the collapsed dims, strides and division magic
 * numbers right-aligned in {@code int8} / {@code uint8} arguments. Sizes are set once here;
 * {@link #launch} only binds the buffers.
 */
final class ClBinary extends Kernel {
    static final String SOURCE = "eltwise/eltwise.cl";
    static final String ENTRY_SAME = "eltwise_same";
    static final String ENTRY_BCAST = "eltwise_bcast";
    static final String ENTRY_ROWS = "eltwise_rows";
    /** Work-group size of the flat entries (a build define, so host and kernel agree). */
    static final int WG = 256;
    /** Work-group width of eltwise_rows; rows shorter than half of it take eltwise_bcast. */
    static final int ROW_WG = 64;
    /** Components of an OpenCL int8, the most dimensions eltwise_bcast takes. */
    private static final int VEC = 8;

    private final ClDevice cl;
    private final String entry;
    private final cl_kernel kernel;
    private final long[] global;
    private final long[] local;

    ClBinary(ClDevice device, Binary op, List<Shape> inputs) {
        super(device, op, inputs);
        this.cl = device;
        for (Shape s : argumentShapes()) {
            requireIntIndexable(s);
        }
        requireIntIndexable(outputShape());
        if (Math.max(WG, ROW_WG) > device.maxWorkGroupSize()) {
            throw new IllegalStateException(device.name() + ": eltwise work-group " + WG
                    + " exceeds the device's maximum of " + device.maxWorkGroupSize());
        }
        Binary.Layout layout = op.layout(inputs);
        int count = (int) outputShape().elementCount();
        long[] dims = layout.dims();
        long inner = dims[dims.length - 1];
        this.entry = layout.sameShape() ? ENTRY_SAME : inner >= ROW_WG / 2 ? ENTRY_ROWS : ENTRY_BCAST;
        this.kernel = device.kernel(device.program(SOURCE, Map.of("ELTWISE_WG", WG, "ELTWISE_ROW_WG", ROW_WG)), entry);
        ClDevice.setArg(kernel, 3, count);
        ClDevice.setArg(kernel, 4, op.kind().code());
        ClDevice.setArg(kernel, 5, op.activation().code());
        if (!layout.sameShape()) {
            int rank = layout.rank();
            int[] magic = new int[VEC];
            int[] shift = new int[VEC];
            // Every dimension but the outermost is divided by; the collapse left them all >= 2.
            for (int k = 1; k < rank; k++) {
                long[] m = divisionMagic((int) dims[k]);
                magic[VEC - rank + k] = (int) m[0];
                shift[VEC - rank + k] = (int) m[1];
            }
            ClDevice.setArg(kernel, 6, rank);
            setInt8(kernel, 7, rightAligned(dims, 1));
            setInt8(kernel, 8, rightAligned(layout.aStrides(), 0));
            setInt8(kernel, 9, rightAligned(layout.bStrides(), 0));
            setInt8(kernel, 10, magic);
            setInt8(kernel, 11, shift);
            ClDevice.setArg(kernel, 12, (int) layout.aStrides()[0]);
            ClDevice.setArg(kernel, 13, (int) layout.bStrides()[0]);
        }
        if (entry.equals(ENTRY_ROWS)) {
            this.global = new long[] {roundUp(inner, ROW_WG), count / inner};
            this.local = new long[] {ROW_WG, 1};
        } else {
            this.global = new long[] {roundUp(count, WG)};
            this.local = new long[] {WG};
        }
    }

    /**
     * The multiply-high magic for dividing any {@code 0 <= r < 2^31} by {@code d >= 2}:
     * {@code r / d == mulhi32(r, m) >>> s} with {@code l = ceil(log2 d)}, {@code m = ceil(2^(31+l) / d)}
     * (below 2^32, returned as its unsigned value) and {@code s = l - 1}. Exact because
     * {@code m * d - 2^(31+l)} is below d, so the rounding up adds less than {@code r / 2^(31+l) < 1/d}
     * to {@code r / d}, too little to reach its next integer.
     *
     * @return {@code {m, s}}
     */
    static long[] divisionMagic(int d) {
        if (d < 2) {
            throw new IllegalArgumentException("eltwise: division magic needs a divisor of at least 2, got " + d);
        }
        int l = 32 - Integer.numberOfLeadingZeros(d - 1);
        long p = 1L << (31 + l);
        long m = (p + d - 1) / d;
        return new long[] {m, l - 1};
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
