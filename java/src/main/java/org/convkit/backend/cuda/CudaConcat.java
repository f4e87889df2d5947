package org.convkit.backend.cuda;

import java.util.ArrayList;
import java.util.List;

import org.convkit.ops.Concat;
import org.convkit.tensor.Shape;

/**
 * concat on CUDA: {@code kernels/concat/concat.cu}, one launch per input into its place in the
 * output, as {@code ClConcat} makes them: {@code concat_rows} (2-D, a row per grid line) when the
 * input's rows hold at least half a block, else {@code concat_copy} (flat).
 */
final class CudaConcat extends CudaKernel {
    static final String MODULE = "concat/concat";
    static final String ENTRY_FLAT = "concat_copy";
    static final String ENTRY_ROWS = "concat_rows";
    /** Block size of concat_copy (concat.cl's default). */
    static final int WG = 256;
    /** Block width of concat_rows (concat.cl's default). */
    static final int ROW_WG = 64;

    CudaConcat(CudaDevice device, Concat op, List<Shape> inputs) {
        super(device, op, inputs);
        use(plan(op, inputs));
    }

    static List<CudaLaunch> plan(Concat op, List<Shape> inputs) {
        Concat.Geometry g = op.geometry(inputs);
        List<CudaLaunch> out = new ArrayList<>();
        for (int i = 0; i < g.inputCount(); i++) {
            boolean rows = g.inner(i) >= ROW_WG / 2;
            String entry = rows ? ENTRY_ROWS : ENTRY_FLAT;
            CudaLaunch.Builder b = rows
                    ? CudaLaunch.of(MODULE, entry, new long[] {roundUp(g.inner(i), ROW_WG), g.outer()},
                        new long[] {ROW_WG, 1})
                    : CudaLaunch.of(MODULE, entry, new long[] {roundUp(g.outer() * g.inner(i), WG)}, new long[] {WG});
            // Every value below is at most the output's element count, hence fits an int.
            out.add(b.input(i).output().ints((int) g.outer(), (int) g.inner(i), (int) g.outInner(), (int) g.offset(i))
                    .label(entry + " input " + i + " of").build());
        }
        return out;
    }
}
