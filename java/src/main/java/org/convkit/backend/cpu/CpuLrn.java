package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Lrn;
import org.convkit.tensor.Shape;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * LRN on the CPU. Work item = (image, run of spatial positions, run of channels): the positions
 * are cut into tiles of at most {@value #TILE} floats so that the window's planes stay in the L1
 * cache while the channels advance, and the channels into runs so that every thread gets about
 * {@link #ITEMS_PER_THREAD} items.
 *
 * <p>Each output sums the squares of its own window directly, in channel order, 16 positions at
 * a time: no sliding sum, whose subtractions would cancel (and spread a NaN or an infinity past
 * the window). The common betas 0.75, 0.5 and 1 are computed in float vectors with square roots
 * ({@code base^0.75 = sqrt(base) * sqrt(sqrt(base))}), a few roundings in all; any other beta
 * sums in float vectors and takes {@link Math#pow} in double per element.
 *
 * <p>The system property {@value CpuConv2d#PATH_PROPERTY}{@code =direct}, read when a kernel is
 * prepared, selects the plain per-channel scalar loops instead: the baseline the benchmarks
 * compare with.
 */
final class CpuLrn extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Positions per tile: five planes of it (AlexNet's window) take 20 KiB of the L1 cache. */
    static final int TILE = 1024;
    private static final int MIN_ITEM = 4096;

    private final Lrn.Geometry g;
    private final boolean direct;
    private final int tiles;
    private final int tileSize;
    private final int channelsPerItem;
    private final int itemsPerImage;
    /** Per thread: a row of sums, for the general beta and the direct loops. */
    private final ThreadLocal<float[]> sums;

    CpuLrn(CpuDevice device, Lrn op, Shape input) {
        this(device, op, input, "direct".equals(System.getProperty(CpuConv2d.PATH_PROPERTY)));
    }

    CpuLrn(CpuDevice device, Lrn op, Shape input, boolean direct) {
        super(device, op, List.of(input));
        this.g = op.geometry(input);
        this.direct = direct;
        int spatial = g.spatial();
        if (direct) {
            tiles = 1;
            tileSize = spatial;
            channelsPerItem = Math.min(g.c(), Math.max(1, MIN_ITEM / Math.max(1, spatial)));
        } else {
            tiles = Math.max(1, Math.ceilDiv(spatial, TILE));
            tileSize = Math.ceilDiv(spatial, tiles);
            // Runs of channels: enough items per thread, but never shorter than the window they re-read.
            long wanted = (long) device.threads() * ITEMS_PER_THREAD;
            long runs = Math.max(1, Math.ceilDiv(wanted, (long) g.n() * tiles));
            int minRun = Math.max(1, (g.before() + g.after() + 1) * 2);
            runs = Math.min(runs, Math.max(1, g.c() / minRun));
            channelsPerItem = (int) Math.ceilDiv(g.c(), runs);
        }
        this.itemsPerImage = tiles * Math.ceilDiv(g.c(), channelsPerItem);
        int rowLength = direct ? spatial : tileSize;
        this.sums = ThreadLocal.withInitial(() -> new float[rowLength]);
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment y = CpuDevice.segment(output);
        long items = (long) g.n() * itemsPerImage;
        cpu.parallelFor(workItems(items), item -> {
            int n = item / itemsPerImage;
            int rest = item % itemsPerImage;
            int c0 = (rest / tiles) * channelsPerItem;
            int c1 = Math.min(g.c(), c0 + channelsPerItem);
            int s0 = (rest % tiles) * tileSize;
            int s1 = Math.min(g.spatial(), s0 + tileSize);
            for (int c = c0; c < c1; c++) {
                if (direct) {
                    channel(x, y, n, c);
                } else {
                    tile(x, y, n, c, s0, s1);
                }
            }
        });
    }

    /** Channel c of image n at positions [s0, s1), vectorised over the positions. */
    private void tile(MemorySegment x, MemorySegment y, int n, int c, int s0, int s1) {
        final int spatial = g.spatial();
        final long image = (long) n * g.c() * spatial;
        final int lo = Math.max(0, c - g.before());
        final int hi = Math.min(g.c() - 1, c + g.after());
        final long own = (image + (long) c * spatial) * Float.BYTES;
        final long first = (image + (long) lo * spatial) * Float.BYTES;
        final long planeBytes = (long) spatial * Float.BYTES;
        final float beta = g.beta();
        final boolean sqrtBeta = beta == 0.75f || beta == 0.5f || beta == 1f;
        final float scale = (float) g.scale();
        final float bias = g.bias();
        float[] acc = sqrtBeta ? null : sums.get();
        int s = s0;
        for (; s + L <= s1; s += L) {
            long at = (long) s * Float.BYTES;
            FloatVector sum = FloatVector.zero(S);
            long p = first + at;
            for (int k = lo; k <= hi; k++, p += planeBytes) {
                FloatVector v = FloatVector.fromMemorySegment(S, x, p, ORDER);
                sum = v.fma(v, sum);
            }
            if (sqrtBeta) {
                FloatVector base = sum.fma(scale, bias);
                FloatVector xv = FloatVector.fromMemorySegment(S, x, own + at, ORDER);
                xv.div(power(base, beta)).intoMemorySegment(y, own + at, ORDER);
            } else {
                sum.intoArray(acc, s - s0);
            }
        }
        for (; s < s1; s++) {
            float sum = 0f;
            for (int k = lo; k <= hi; k++) {
                float v = x.getAtIndex(F, image + (long) k * spatial + s);
                sum = Math.fma(v, v, sum);
            }
            if (sqrtBeta) {
                float base = Math.fma(sum, scale, bias);
                long i = image + (long) c * spatial + s;
                y.setAtIndex(F, i, x.getAtIndex(F, i) / power(base, beta));
            } else {
                acc[s - s0] = sum;
            }
        }
        if (!sqrtBeta) {
            double scaleD = g.scale();
            for (int t = s0; t < s1; t++) {
                long i = image + (long) c * spatial + t;
                double base = bias + scaleD * acc[t - s0];
                y.setAtIndex(F, i, (float) (x.getAtIndex(F, i) / Math.pow(base, beta)));
            }
        }
    }

    /** base^beta for beta 0.75, 0.5 or 1, in float vectors. */
    private static FloatVector power(FloatVector base, float beta) {
        if (beta == 1f) {
            return base;
        }
        FloatVector root = base.sqrt();
        return beta == 0.5f ? root : root.mul(root.sqrt());
    }

    /** base^beta for beta 0.75, 0.5 or 1, in float, as {@link #power(FloatVector, float)} does it. */
    private static float power(float base, float beta) {
        if (beta == 1f) {
            return base;
        }
        float root = (float) Math.sqrt(base);
        return beta == 0.5f ? root : root * (float) Math.sqrt(root);
    }

    /** base^beta in double; the common betas by square roots, which cost a fraction of Math.pow (see lrn.cl). */
    private static double power(double base, double beta) {
        if (beta == 0.75) {
            return Math.sqrt(base * Math.sqrt(base));
        } else if (beta == 0.5) {
            return Math.sqrt(base);
        } else if (beta == 1) {
            return base;
        }
        return Math.pow(base, beta);
    }

    /** The direct loops: channel c of image n, a scalar row of sums, then the power in double. */
    private void channel(MemorySegment x, MemorySegment y, int n, int c) {
        final int spatial = g.spatial();
        final long image = (long) n * g.c() * spatial;
        float[] acc = sums.get();
        java.util.Arrays.fill(acc, 0f);
        int lo = Math.max(0, c - g.before());
        int hi = Math.min(g.c() - 1, c + g.after());
        for (int k = lo; k <= hi; k++) {
            long plane = image + (long) k * spatial;
            for (int s = 0; s < spatial; s++) {
                float v = x.getAtIndex(F, plane + s);
                acc[s] += v * v;
            }
        }
        long plane = image + (long) c * spatial;
        double bias = g.bias();
        double scale = g.scale();
        double beta = g.beta();
        for (int s = 0; s < spatial; s++) {
            double base = bias + scale * acc[s];
            y.setAtIndex(F, plane + s, (float) (x.getAtIndex(F, plane + s) / power(base, beta)));
        }
    }
}
