package org.convkit.backend.opencl;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Binary;
import org.convkit.tensor.Shape;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;

/**
 * add / mul on OpenCL: {@code kernels/eltwise/eltwise.cl}. The broadcast is collapsed on the host
 * ({@link Binary#layout}); equal shapes take {@code eltwise_same}; anything else takes a row
 * kernel when its rows hold at least half a work-group ({@code eltwise_rows2_*} for layouts of
 * rank 2, e.g. a channel scale, {@code eltwise_rows_*} above; one entry per pattern of which
 * inputs walk the row), else {@code eltwise_bcast}. The broadcast kernels get the collapsed dims,
 * strides and division magic numbers right-aligned in {@code int8} / {@code uint8} arguments.
 * Sizes are set once here; {@link #launch} only binds the buffers.
 */
final class ClBinary extends ClKernel {
    static final String SOURCE = "eltwise/eltwise.cl";
    static final String ENTRY_SAME = "eltwise_same";
    static final String ENTRY_BCAST = "eltwise_bcast";
    /** Work-group size of the flat entries (a build define, so host and kernel agree). */
    static final int WG = 256;
    /** Work-group width of eltwise_rows_*; rows shorter than half of it take eltwise_bcast. */
    static final int ROW_WG = 64;
    /** Components of an OpenCL int8, the most dimensions eltwise_bcast takes. */
    private static final int VEC = 8;

    private final String entry;
    private final cl_kernel kernel;
    private final long[] global;
    private final long[] local;

    ClBinary(ClDevice device, Binary op, List<Shape> inputs) {
        super(device, op, inputs);
        requireWorkGroup(Math.max(WG, ROW_WG));
        Binary.Layout layout = op.layout(inputs);
        int count = (int) outputShape().elementCount();
        long[] dims = layout.dims();
        long[] sa = layout.aStrides();
        long[] sb = layout.bStrides();
        int last = dims.length - 1;
        boolean rows = !layout.sameShape() && dims[last] >= ROW_WG / 2;
        // Row kernels: "2" for at most two dimensions (no split of the row index), then who walks the row.
        this.entry = layout.sameShape() ? ENTRY_SAME : !rows ? ENTRY_BCAST
                : (dims.length <= 2 ? "eltwise_rows2_" : "eltwise_rows_")
                        + (sa[last] == 0 ? "b" : sb[last] == 0 ? "a" : "ab");
        this.kernel = kernel(SOURCE, Map.of("ELTWISE_WG", WG, "ELTWISE_ROW_WG", ROW_WG), entry);
        ClDevice.setArg(kernel, 3, count);
        ClDevice.setArg(kernel, 4, op.kind().code());
        ClDevice.setArg(kernel, 5, op.activation().code());
        if (rows && dims.length == 1) {
            // The row kernels take the row from component 7, below the outermost dimension: give
            // a single row an outer dimension of 1.
            dims = new long[] {1, dims[0]};
            sa = new long[] {0, sa[0]};
            sb = new long[] {0, sb[0]};
        }
        if (!layout.sameShape()) {
            setBroadcastArgs(dims, sa, sb);
        }
        if (rows) {
            this.global = new long[] {roundUp(dims[dims.length - 1], ROW_WG), count / dims[dims.length - 1]};
            this.local = new long[] {ROW_WG, 1};
        } else {
            this.global = new long[] {roundUp(count, WG)};
            this.local = new long[] {WG};
        }
    }

    /**
     * Arguments 6.. of eltwise_bcast and eltwise_rows_*: the dimensions below the outermost,
     * right-aligned in int8s (unused components D = 1, strides 0, magic 0), then the outermost
     * dimension's strides.
     */
    private void setBroadcastArgs(long[] dims, long[] sa, long[] sb) {
        int[] d = new int[VEC];
        int[] stridesA = new int[VEC];
        int[] stridesB = new int[VEC];
        int[] magic = new int[VEC];
        int[] shift = new int[VEC];
        Arrays.fill(d, 1);
        int rank = dims.length;
        // Fits: every dim and stride is below the element count, which is below 2^31.
        for (int k = 1; k < rank; k++) {
            int slot = VEC - rank + k;
            d[slot] = (int) dims[k];
            stridesA[slot] = (int) sa[k];
            stridesB[slot] = (int) sb[k];
            // The collapse leaves every dimension >= 2 (size-1 dimensions are dropped).
            long[] m = divisionMagic(d[slot]);
            magic[slot] = (int) m[0];
            shift[slot] = (int) m[1];
        }
        setInt8(kernel, 6, d);
        setInt8(kernel, 7, stridesA);
        setInt8(kernel, 8, stridesB);
        setInt8(kernel, 9, magic);
        setInt8(kernel, 10, shift);
        ClDevice.setArg(kernel, 11, (int) sa[0]);
        ClDevice.setArg(kernel, 12, (int) sb[0]);
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

    private void setInt8(cl_kernel k, int index, int[] v) {
        Cl.check(CL.clSetKernelArg(k, index, (long) Sizeof.cl_int * VEC, Pointer.to(v)), cl.name(), "clSetKernelArg",
                "int8 argument " + index + " = " + Arrays.toString(v));
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, args.get(1));
        ClDevice.setArg(kernel, 2, output);
        cl.launch(kernel, entry + " " + describe(), global, local);
    }
}
