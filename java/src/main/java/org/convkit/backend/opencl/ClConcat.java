package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Concat;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * concat on OpenCL: {@code kernels/concat/concat.cl}, launched once per input into its place in
 * the output: {@code concat_rows} (2-D, a row per grid line) when the input's rows hold at least
 * half a work-group, else {@code concat_copy} (flat). Each input has a kernel object of its own
 * whose sizes are set here, so {@link #launch} only binds buffers and queues the copies.
 */
final class ClConcat extends ClKernel {
    static final String SOURCE = "concat/concat.cl";
    static final String ENTRY_FLAT = "concat_copy";
    static final String ENTRY_ROWS = "concat_rows";
    /** Work-group size of concat_copy (a build define, so host and kernel agree). */
    static final int WG = 256;
    /** Work-group width of concat_rows. */
    static final int ROW_WG = 64;
    /** Build defines of concat.cl (one program for both entries). */
    private static final Map<String, Integer> DEFINES = Map.of("CONCAT_WG", WG, "CONCAT_ROW_WG", ROW_WG);

    private final cl_kernel[] kernels;
    private final String[] entries;
    private final long[][] globals;
    private final long[][] locals;

    ClConcat(ClDevice device, Concat op, List<Shape> inputs) {
        super(device, op, inputs);
        requireWorkGroup(Math.max(WG, ROW_WG));
        Concat.Geometry g = op.geometry(inputs);
        this.kernels = new cl_kernel[g.inputCount()];
        this.entries = new String[g.inputCount()];
        this.globals = new long[g.inputCount()][];
        this.locals = new long[g.inputCount()][];
        try {
            for (int i = 0; i < kernels.length; i++) {
                boolean rows = g.inner(i) >= ROW_WG / 2;
                entries[i] = rows ? ENTRY_ROWS : ENTRY_FLAT;
                kernels[i] = kernel(SOURCE, DEFINES, entries[i]);
                // Every value below is at most the output's element count, hence fits an int.
                ClDevice.setArg(kernels[i], 2, (int) g.outer());
                ClDevice.setArg(kernels[i], 3, (int) g.inner(i));
                ClDevice.setArg(kernels[i], 4, (int) g.outInner());
                ClDevice.setArg(kernels[i], 5, (int) g.offset(i));
                globals[i] = rows ? new long[] {roundUp(g.inner(i), ROW_WG), g.outer()}
                        : new long[] {roundUp(g.outer() * g.inner(i), WG)};
                locals[i] = rows ? new long[] {ROW_WG, 1} : new long[] {WG};
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        for (int i = 0; i < kernels.length; i++) {
            ClDevice.setArg(kernels[i], 0, args.get(i));
            ClDevice.setArg(kernels[i], 1, output);
            cl.launch(kernels[i], entries[i] + " input " + i + " of " + describe(), globals[i], locals[i]);
        }
    }
}
