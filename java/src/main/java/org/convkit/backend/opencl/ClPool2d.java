package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Pool2d;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * maxpool2d and avgpool2d on OpenCL: {@code kernels/pool2d/pool2d.cl}, entries
 * {@code pool2d_max} and {@code pool2d_avg} (same arguments). Sizes are kernel arguments; the
 * tile of output pixels per work-group is a build-time macro, so that the launch's local size
 * and the kernel's {@code reqd_work_group_size} always agree. The global pools
 * ({@link ClGlobalPool2d}) share the program: same source, same defines.
 */
final class ClPool2d extends ClKernel {
    static final String SOURCE = "pool2d/pool2d.cl";
    static final String ENTRY_MAX = "pool2d_max";
    static final String ENTRY_AVG = "pool2d_avg";
    /** Work-group tile in output pixels (width x height); a 56x56 plane alone makes 56 groups. */
    static final int TILE_W = 16;
    static final int TILE_H = 4;
    /** Work-group of the global pools: one per plane (a power of two, for the tree reduction). */
    static final int GLOBAL_WG = 64;
    /** Build defines of pool2d.cl, the same for every entry so that one program serves them all. */
    static final Map<String, Integer> DEFINES = Map.of("POOL2D_TILE_W", TILE_W, "POOL2D_TILE_H", TILE_H,
            "GLOBAL_POOL_WG", GLOBAL_WG);

    private final String entry;
    private final cl_kernel kernel;
    private final long[] global;
    private final long[] local;

    ClPool2d(ClDevice device, Pool2d pool, Shape input) {
        super(device, pool, List.of(input));
        Pool2d.Geometry g = pool.geometry(input);
        // The kernel forms row and column indices of padded and overhanging taps in 32 bits too.
        long rowsSpan = (long) g.h() + g.padTop() + g.padBottom() + (long) (g.kh() - 1) * g.dh() + (long) g.sh();
        long colsSpan = (long) g.w() + g.padLeft() + g.padRight() + (long) (g.kw() - 1) * g.dw() + (long) g.sw();
        if (input.elementCount() + rowsSpan * colsSpan > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(cl.name() + " " + describe() + ": padded window coordinates ("
                    + rowsSpan + "x" + colsSpan + ") overflow this kernel's 32-bit indices");
        }
        requireWorkGroup(TILE_W * TILE_H);
        this.entry = g.mode() == Pool2d.Mode.MAX ? ENTRY_MAX : ENTRY_AVG;
        this.kernel = kernel(SOURCE, DEFINES, entry);
        int[] sizes = {g.h(), g.w(), g.oh(), g.ow(), g.kh(), g.kw(), g.sh(), g.sw(), g.dh(), g.dw(), g.padTop(),
                g.padLeft(), g.padBottom(), g.padRight(), g.countIncludePad() ? 1 : 0};
        for (int i = 0; i < sizes.length; i++) {
            ClDevice.setArg(kernel, 2 + i, sizes[i]);
        }
        this.global = new long[] {roundUp(g.ow(), TILE_W), roundUp(g.oh(), TILE_H), (long) g.n() * g.c()};
        this.local = new long[] {TILE_W, TILE_H, 1};
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, output);
        cl.launch(kernel, entry + " " + describe(), global, local);
    }
}
