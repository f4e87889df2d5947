package org.convkit.backend.cuda;

import java.util.Arrays;
import java.util.List;

import org.convkit.ops.Binary;
import org.convkit.tensor.Shape;

/**
 * add / mul on CUDA: {@code kernels/eltwise/eltwise.cu}, launched as {@code ClBinary} launches its
 * OpenCL twin: the broadcast collapsed on the host ({@link Binary#layout}); equal shapes take
 * {@code eltwise_same}; others a row kernel ({@code eltwise_rows2_*} for layouts of rank 2,
 * {@code eltwise_rows_*} above; the suffix says which inputs walk the row) when rows hold at
 * least half a block, else {@code eltwise_bcast}. The broadcast kernels get the collapsed dims,
 * strides and division magic numbers right-aligned in 8-integer arguments (OpenCL's int8/uint8).
 */
final class CudaBinary extends CudaKernel {
    static final String MODULE = "eltwise/eltwise";
    /** Block size of the flat entries (eltwise.cl's default). */
    static final int WG = 256;
    /** Block width of the row entries (eltwise.cl's default); rows shorter than half of it take eltwise_bcast. */
    static final int ROW_WG = 64;
    /** Components of the 8-integer arguments, the most dimensions eltwise_bcast takes. */
    private static final int VEC = 8;

    CudaBinary(CudaDevice device, Binary op, List<Shape> inputs) {
        super(device, op, inputs);
        use(plan(op, inputs));
    }

    static List<CudaLaunch> plan(Binary op, List<Shape> inputs) {
        Binary.Layout layout = op.layout(inputs);
        int count = (int) op.outputShape(inputs).elementCount();
        long[] dims = layout.dims();
        long[] sa = layout.aStrides();
        long[] sb = layout.bStrides();
        int last = dims.length - 1;
        boolean rows = !layout.sameShape() && dims[last] >= ROW_WG / 2;
        String entry = layout.sameShape() ? "eltwise_same" : !rows ? "eltwise_bcast"
                : (dims.length <= 2 ? "eltwise_rows2_" : "eltwise_rows_")
                        + (sa[last] == 0 ? "b" : sb[last] == 0 ? "a" : "ab");
        if (rows && dims.length == 1) {
            // The row kernels take the row from component 7, below the outermost dimension: give
            // a single row an outer dimension of 1.
            dims = new long[] {1, dims[0]};
            sa = new long[] {0, sa[0]};
            sb = new long[] {0, sb[0]};
        }
        CudaLaunch.Builder b = rows
                ? CudaLaunch.of(MODULE, entry, new long[] {roundUp(dims[dims.length - 1], ROW_WG),
                    count / dims[dims.length - 1]}, new long[] {ROW_WG, 1})
                : CudaLaunch.of(MODULE, entry, new long[] {roundUp(count, WG)}, new long[] {WG});
        b.input(0).input(1).output().ints(count, op.kind().code(), op.activation().code());
        if (!layout.sameShape()) {
            broadcastArgs(b, dims, sa, sb);
        }
        return List.of(b.build());
    }

    /**
     * The arguments after the first six of eltwise_bcast and eltwise_rows_*: the dimensions below
     * the outermost, right-aligned in 8 integers (unused components D = 1, strides 0, magic 0),
     * then the outermost dimension's strides.
     */
    private static void broadcastArgs(CudaLaunch.Builder b, long[] dims, long[] sa, long[] sb) {
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
        b.int8(d).int8(stridesA).int8(stridesB).int8(magic).int8(shift).ints((int) sa[0], (int) sb[0]);
    }

    /**
     * The multiply-high magic for dividing any {@code 0 <= r < 2^31} by {@code d >= 2}, the same
     * numbers {@code ClBinary.divisionMagic} gives eltwise.cl (the kernels share the division):
     * {@code r / d == mulhi32(r, m) >>> s} with {@code l = ceil(log2 d)},
     * {@code m = ceil(2^(31+l) / d)} (below 2^32, returned as its unsigned value), {@code s = l - 1}.
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
}
