package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Conv2d;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * conv2d on OpenCL: {@code kernels/conv2d/conv2d.cl}. The entry is chosen per shape ({@link #plan}):
 * depthwise convolutions take {@code conv2d_depthwise}, 1x1 stride-1 unpadded ones
 * {@code conv2d_1x1}, the rest the implicit GEMM {@code conv2d_tiled}, each as long as its tiles
 * are not mostly padding for the shape, and {@code conv2d_fwd} (direct, correct for everything)
 * otherwise. The tile sizes are build macros whose values are per-device data
 * ({@link ClConv2dTuning}); sizes are kernel arguments, so one program per device and tile shape
 * serves every convolution, and the launch's local size always matches the entries'
 * {@code reqd_work_group_size}.
 */
final class ClConv2d extends ClKernel {
    static final String SOURCE = "conv2d/conv2d.cl";
    /** The direct kernel's entry. */
    static final String ENTRY = Path.DIRECT.entry;
    /** conv2d_fwd's work-group tile in output pixels (width x height). */
    static final int TILE_W = 16;
    static final int TILE_H = 4;

    /** The entries of conv2d.cl. */
    enum Path {
        DIRECT("conv2d_fwd"), TILED("conv2d_tiled"), POINTWISE("conv2d_1x1"), DEPTHWISE("conv2d_depthwise");

        final String entry;

        Path(String entry) {
            this.entry = entry;
        }
    }

    /**
     * One launch: the entry, the program's macros, the grid and the work-group.
     *
     * @param shape the tile shape of a TILED plan, else null
     */
    record Plan(Path path, ClConv2dTuning.TileShape shape, Map<String, Integer> defines, long[] global, long[] local) {
    }

    private final Conv2d.Geometry g;
    private final Plan plan;
    private final cl_kernel kernel;

    ClConv2d(ClDevice device, Conv2d conv, Shape input) {
        this(device, conv, input, device.conv2dTuning());
    }

    /** With other tuning data than the device's own (tests run the GPU values through a CPU driver). */
    ClConv2d(ClDevice device, Conv2d conv, Shape input, ClConv2dTuning tuning) {
        super(device, conv, List.of(input));
        this.g = conv.geometry(input);
        this.plan = plan(g, tuning, device.maxWorkGroupSize(), device.localMemoryBytes(), device.info().computeUnits());
        long wg = 1;
        for (long l : plan.local()) {
            wg *= l;
        }
        requireWorkGroup(wg);
        this.kernel = kernel(SOURCE, plan.defines(), plan.path().entry);
        int[] sizes = {g.n(), g.c(), g.h(), g.w(), g.oc(), g.oh(), g.ow(), g.kh(), g.kw(), g.sh(), g.sw(), g.dh(),
                g.dw(), g.padTop(), g.padLeft(), g.groups(), g.activation().code()};
        for (int i = 0; i < sizes.length; i++) {
            ClDevice.setArg(kernel, 4 + i, sizes[i]);
        }
    }

    /** The entry this kernel launches. */
    Path path() {
        return plan.path();
    }

    /** The launch this kernel makes. */
    Plan plan() {
        return plan;
    }

    /**
     * The launch for a convolution on a device described by its tuning data, largest work-group,
     * local memory and compute units. A staged kernel is taken only where it fits the device
     * (work-group, local memory, the kernel's taps within a K chunk) and at least
     * {@link ClConv2dTuning#minUseful()} of the outputs its work-items' register blocks cover are
     * real (blocks wholly outside the output skip their arithmetic, so that fraction, not the
     * tiles', measures the wasted work). Among conv2d_tiled's tile shapes the fastest wins (its
     * relative speed, discounted when it leaves fewer than two work-groups per compute unit),
     * then the one whose tiles are least padding (they are copied whole), then the earlier.
     */
    static Plan plan(Conv2d.Geometry g, ClConv2dTuning t, long maxWorkGroup, long localBytes, int computeUnits) {
        Map<String, Integer> common = t.defines(t.tiled().shapes().get(0));
        int ocg = g.ocPerGroup();
        if (g.cPerGroup() == 1) {
            ClConv2dTuning.Depthwise dw = t.depthwise();
            if ((long) dw.wx() * dw.wy() <= maxWorkGroup) {
                long blocks = ceilDiv(g.ow(), dw.rw());
                return new Plan(Path.DEPTHWISE, null, common,
                        new long[] {roundUp(blocks, dw.wx()), roundUp(g.oh(), dw.wy()), (long) g.n() * g.oc()},
                        new long[] {dw.wx(), dw.wy(), 1});
            }
        } else if (g.kh() == 1 && g.kw() == 1 && g.sh() == 1 && g.sw() == 1 && g.padTop() == 0 && g.padLeft() == 0
                && g.padBottom() == 0 && g.padRight() == 0) {
            ClConv2dTuning.Pointwise pw = t.pointwise();
            long pixels = (long) g.h() * g.w();
            long wgx = pw.tp() / pw.rw();
            long wgm = pw.tm() / pw.rm();
            double useful = (double) pixels / roundUp(pixels, pw.rw()) * ocg / roundUp(ocg, pw.rm());
            if (wgx * wgm <= maxWorkGroup && (wgx * wgm) % t.lanes() == 0
                    && (long) pw.tm() * pw.kc() * Float.BYTES <= localBytes && useful >= t.minUseful()) {
                return new Plan(Path.POINTWISE, null, common,
                        new long[] {ceilDiv(pixels, pw.tp()) * wgx, ceilDiv(ocg, pw.tm()) * wgm, (long) g.n() * g.groups()},
                        new long[] {wgx, wgm, 1});
            }
        } else {
            ClConv2dTuning.Tiled td = t.tiled();
            double useful = (double) g.oh() / roundUp(g.oh(), td.rh()) * g.ow() / roundUp(g.ow(), td.rw()) * ocg
                    / roundUp(ocg, td.rm());
            Plan best = null;
            double bestScore = -1;
            for (ClConv2dTuning.TileShape s : td.shapes()) {
                if (useful < t.minUseful() || !fitsTiled(g, t, s, maxWorkGroup, localBytes)) {
                    continue;
                }
                long tilesH = ceilDiv(g.oh(), s.toh());
                long tilesW = ceilDiv(g.ow(), s.tow());
                long tilesM = ceilDiv(ocg, s.tm());
                double tileUseful = (double) g.oh() / (tilesH * s.toh()) * g.ow() / (tilesW * s.tow()) * ocg
                        / (tilesM * s.tm());
                long groups = tilesH * tilesW * tilesM * g.n() * g.groups();
                double score = s.speed() * Math.min(1.0, groups / (2.0 * computeUnits)) + 1e-3 * tileUseful;
                if (score > bestScore) {
                    long wgx = (long) (s.tow() / td.rw()) * (s.toh() / td.rh());
                    long wgm = s.tm() / td.rm();
                    best = new Plan(Path.TILED, s, t.defines(s),
                            new long[] {tilesH * tilesW * wgx, tilesM * wgm, (long) g.n() * g.groups()},
                            new long[] {wgx, wgm, 1});
                    bestScore = score;
                }
            }
            if (best != null) {
                return best;
            }
        }
        return new Plan(Path.DIRECT, null, common,
                new long[] {roundUp(g.ow(), TILE_W), roundUp(g.oh(), TILE_H), (long) g.n() * g.oc()},
                new long[] {TILE_W, TILE_H, 1});
    }

    /** Whether conv2d_tiled with this tile shape runs on the device and reduces at least one input channel per chunk. */
    private static boolean fitsTiled(Conv2d.Geometry g, ClConv2dTuning t, ClConv2dTuning.TileShape s, long maxWorkGroup,
            long localBytes) {
        ClConv2dTuning.Tiled td = t.tiled();
        long wg = (long) (s.tow() / td.rw()) * (s.toh() / td.rh()) * (s.tm() / td.rm());
        long rows = (long) (s.toh() - 1) * g.sh() + (long) (g.kh() - 1) * g.dh() + 1;
        long cpp = s.tow() + (long) (g.kw() - 1) * g.dw() / g.sw();
        long patch = rows * g.sw() * cpp;
        return wg <= maxWorkGroup && wg % t.lanes() == 0 && (long) g.kh() * g.kw() <= td.kc() && patch <= td.xs()
                && ((long) td.xs() + (long) s.tm() * td.kc()) * Float.BYTES <= localBytes;
    }

    private static long ceilDiv(long v, long d) {
        return (v + d - 1) / d;
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, args.get(1));
        ClDevice.setArg(kernel, 2, g.bias() ? args.get(2) : null);
        ClDevice.setArg(kernel, 3, output);
        cl.launch(kernel, plan.path().entry + " " + describe(), plan.global(), plan.local());
    }
}
