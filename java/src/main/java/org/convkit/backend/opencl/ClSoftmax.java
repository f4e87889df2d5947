package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Softmax;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * Softmax on OpenCL: {@code kernels/softmax/softmax.cl}. Rows of at least {@value #LONG_ROW}
 * elements get a work-group each ({@code softmax_fwd_wg}) when they are contiguous, or when there
 * are fewer than {@value #FEW_ROWS} of them; otherwise each row gets one work-item
 * ({@code softmax_fwd}), which for strided rows reads neighbouring floats across work-items.
 */
final class ClSoftmax extends ClKernel {
    static final String SOURCE = "softmax/softmax.cl";
    static final String ENTRY_ROW = "softmax_fwd";
    static final String ENTRY_WG = "softmax_fwd_wg";
    /** Work-group of the work-item-per-row variant. */
    static final int ROW_WG = 64;
    /** Work-group of the work-group-per-row variant (a power of two). */
    static final int WG = 128;
    /** A row this long is worth a work-group. */
    static final int LONG_ROW = 64;
    /** Below this many rows, one work-item per row leaves most of a device idle. */
    static final long FEW_ROWS = 8192;

    private final cl_kernel kernel;
    private final String entry;
    private final long[] global;
    private final long[] local;

    ClSoftmax(ClDevice device, Softmax op, Shape input) {
        super(device, op, List.of(input));
        Softmax.Geometry g = op.geometry(input);
        boolean perGroup = usesWorkGroupPerRow(g);
        int wg = perGroup ? WG : ROW_WG;
        requireWorkGroup(wg);
        this.entry = perGroup ? ENTRY_WG : ENTRY_ROW;
        this.kernel = kernel(SOURCE, Map.of("SOFTMAX_WG", WG, "SOFTMAX_ROW_WG", ROW_WG), entry);
        int rows = (int) g.rows();
        if (perGroup) {
            ClDevice.setArg(kernel, 2, g.length());
            ClDevice.setArg(kernel, 3, (int) g.inner());
            this.global = new long[] {(long) rows * WG};
        } else {
            ClDevice.setArg(kernel, 2, rows);
            ClDevice.setArg(kernel, 3, g.length());
            ClDevice.setArg(kernel, 4, (int) g.inner());
            this.global = new long[] {roundUp(rows, ROW_WG)};
        }
        this.local = new long[] {wg};
    }

    /** Which variant a case gets (see the class comment); the consistency test covers both. */
    static boolean usesWorkGroupPerRow(Softmax.Geometry g) {
        return g.length() >= LONG_ROW && (g.inner() == 1 || g.rows() < FEW_ROWS);
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, output);
        cl.launch(kernel, entry + " " + describe(), global, local);
    }
}
