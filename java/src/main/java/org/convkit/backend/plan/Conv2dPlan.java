package org.convkit.backend.plan;

import java.util.Map;

import org.convkit.ops.Conv2d;

/**
 * One launch of the conv2d kernels ({@code kernels/conv2d/conv2d.cl} and its CUDA twin
 * {@code conv2d.cu}, which have the same entries, macros and grids): the entry, the build macros,
 * the global size and the work-group (CUDA: block = work-group, grid = global / work-group). The
 * OpenCL host (with its device's tuning data) and the CUDA host (with {@link Conv2dTuning#GPU},
 * the values its PTX is built with) both call {@link #of}, so that on the same data they launch the
 * same thing.
 *
 * @param path the entry
 * @param shape the tile shape of a {@link Path#TILED} plan, else null
 * @param defines every conv2d macro the kernel is built with (one program serves all entries)
 * @param global the global size, a multiple of {@code local} in each of the three dimensions
 * @param local the work-group
 */
public record Conv2dPlan(Path path, Conv2dTuning.TileShape shape, Map<String, Integer> defines, long[] global,
        long[] local) {
    /** conv2d_fwd's work-group tile in output pixels (width x height): its macros CONV2D_TILE_W / _H. */
    public static final int TILE_W = 16;
    public static final int TILE_H = 4;

    /** The entries of conv2d.cl / conv2d.cu. */
    public enum Path {
        DIRECT("conv2d_fwd"), TILED("conv2d_tiled"), POINTWISE("conv2d_1x1"), DEPTHWISE("conv2d_depthwise");

        private final String entry;

        Path(String entry) {
            this.entry = entry;
        }

        /** The kernel's entry name. */
        public String entry() {
            return entry;
        }
    }

    /**
     * What a device allows a launch: the largest work-group (threads per block), the local (shared)
     * memory one work-group may use, and the compute units (CUDA: multiprocessors) that work-groups
     * spread over.
     */
    public record Limits(long maxWorkGroup, long localBytes, int computeUnits) {
    }

    public Conv2dPlan {
        defines = Map.copyOf(defines);
    }

    /** Threads of one work-group. */
    public long workGroupSize() {
        return local[0] * local[1] * local[2];
    }

    /**
     * The launch for a convolution on a device described by its tuning data and limits. A staged
     * kernel is taken only where it fits the device (work-group, local memory, the kernel's taps
     * within a K chunk) and at least {@link Conv2dTuning#minUseful()} of the outputs its
     * work-items' register blocks cover are real (blocks wholly outside the output skip their
     * arithmetic, so that fraction, not the tiles', measures the wasted work). Among conv2d_tiled's
     * tile shapes the fastest wins (its relative speed, discounted when it leaves fewer than two
     * work-groups per compute unit), then the one whose tiles are least padding (they are copied
     * whole), then the earlier.
     */
    public static Conv2dPlan of(Conv2d.Geometry g, Conv2dTuning t, Limits limits) {
        Map<String, Integer> common = t.defines(t.tiled().shapes().get(0));
        int ocg = g.ocPerGroup();
        if (g.cPerGroup() == 1) {
            Conv2dTuning.Depthwise dw = t.depthwise();
            if ((long) dw.wx() * dw.wy() <= limits.maxWorkGroup()) {
                long blocks = ceilDiv(g.ow(), dw.rw());
                return new Conv2dPlan(Path.DEPTHWISE, null, common,
                        new long[] {roundUp(blocks, dw.wx()), roundUp(g.oh(), dw.wy()), (long) g.n() * g.oc()},
                        new long[] {dw.wx(), dw.wy(), 1});
            }
        } else if (g.kh() == 1 && g.kw() == 1 && g.sh() == 1 && g.sw() == 1 && g.padTop() == 0 && g.padLeft() == 0
                && g.padBottom() == 0 && g.padRight() == 0) {
            Conv2dTuning.Pointwise pw = t.pointwise();
            long pixels = (long) g.h() * g.w();
            long wgx = pw.tp() / pw.rw();
            long wgm = pw.tm() / pw.rm();
            double useful = (double) pixels / roundUp(pixels, pw.rw()) * ocg / roundUp(ocg, pw.rm());
            if (wgx * wgm <= limits.maxWorkGroup() && (wgx * wgm) % t.lanes() == 0
                    && (long) pw.tm() * pw.kc() * Float.BYTES <= limits.localBytes() && useful >= t.minUseful()) {
                return new Conv2dPlan(Path.POINTWISE, null, common,
                        new long[] {ceilDiv(pixels, pw.tp()) * wgx, ceilDiv(ocg, pw.tm()) * wgm, (long) g.n() * g.groups()},
                        new long[] {wgx, wgm, 1});
            }
        } else {
            Conv2dTuning.Tiled td = t.tiled();
            double useful = (double) g.oh() / roundUp(g.oh(), td.rh()) * g.ow() / roundUp(g.ow(), td.rw()) * ocg
                    / roundUp(ocg, td.rm());
            Conv2dPlan best = null;
            double bestScore = -1;
            for (Conv2dTuning.TileShape s : td.shapes()) {
                if (useful < t.minUseful() || !fitsTiled(g, t, s, limits)) {
                    continue;
                }
                long tilesH = ceilDiv(g.oh(), s.toh());
                long tilesW = ceilDiv(g.ow(), s.tow());
                long tilesM = ceilDiv(ocg, s.tm());
                double tileUseful = (double) g.oh() / (tilesH * s.toh()) * g.ow() / (tilesW * s.tow()) * ocg
                        / (tilesM * s.tm());
                long groups = tilesH * tilesW * tilesM * g.n() * g.groups();
                double score = s.speed() * Math.min(1.0, groups / (2.0 * limits.computeUnits())) + 1e-3 * tileUseful;
                if (score > bestScore) {
                    long wgx = (long) (s.tow() / td.rw()) * (s.toh() / td.rh());
                    long wgm = s.tm() / td.rm();
                    best = new Conv2dPlan(Path.TILED, s, t.defines(s),
                            new long[] {tilesH * tilesW * wgx, tilesM * wgm, (long) g.n() * g.groups()},
                            new long[] {wgx, wgm, 1});
                    bestScore = score;
                }
            }
            if (best != null) {
                return best;
            }
        }
        return new Conv2dPlan(Path.DIRECT, null, common,
                new long[] {roundUp(g.ow(), TILE_W), roundUp(g.oh(), TILE_H), (long) g.n() * g.oc()},
                new long[] {TILE_W, TILE_H, 1});
    }

    /** Whether conv2d_tiled with this tile shape runs on the device and reduces at least one input channel per chunk. */
    private static boolean fitsTiled(Conv2d.Geometry g, Conv2dTuning t, Conv2dTuning.TileShape s, Limits limits) {
        Conv2dTuning.Tiled td = t.tiled();
        long wg = (long) (s.tow() / td.rw()) * (s.toh() / td.rh()) * (s.tm() / td.rm());
        long rows = (long) (s.toh() - 1) * g.sh() + (long) (g.kh() - 1) * g.dh() + 1;
        long cpp = s.tow() + (long) (g.kw() - 1) * g.dw() / g.sw();
        long patch = rows * g.sw() * cpp;
        return wg <= limits.maxWorkGroup() && wg % t.lanes() == 0 && (long) g.kh() * g.kw() <= td.kc()
                && patch <= td.xs() && ((long) td.xs() + (long) s.tm() * td.kc()) * Float.BYTES <= limits.localBytes();
    }

    private static long ceilDiv(long v, long d) {
        return (v + d - 1) / d;
    }

    private static long roundUp(long v, long m) {
        return ceilDiv(v, m) * m;
    }
}
