package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.tensor.Shape;

/**
 * conv2d on the CPU. Each shape gets one of six paths, chosen when the kernel is prepared
 * ({@link #path}):
 * <ul>
 *   <li>{@link Path#SPATIAL}: groups = 1, vectors over output positions ({@link SpatialGemm} on a
 *       {@link PhaseSlab}); work item = (image, range of the slab's flattened positions, cut at
 *       whole micro-kernel blocks where there are enough).</li>
 *   <li>{@link Path#CHANNEL}: groups = 1 on small images with many channels, vectors over output
 *       channels ({@link ChannelGemm}); work item = (image, range of output pixels, group of output
 *       channel blocks: several only when the batch is smaller than the thread count). Taken when
 *       its estimated share of useful lanes beats the spatial path's by {@link #CHANNEL_MARGIN}
 *       (its transposing epilogue costs more), or comes within {@link #CHANNEL_MARGIN_SHORT} of it
 *       where the spatial ranges are too short for the spatial micro-kernel, and K is at least
 *       {@link #CHANNEL_MIN_K}.</li>
 *   <li>{@link Path#WINOGRAD}: 3x3, stride 1, dilation 1, groups 1, with enough channels and
 *       tiles ({@link #winograd}): Winograd F(4x4, 3x3), {@link Winograd3x3}; work item = (image,
 *       range of 4x4 tiles, group of 64-channel output blocks: several only when there are fewer
 *       than two ranges per thread, and then the batch's input is transformed first, split by
 *       channels, into one array the items share). Its error against the exact sum is about ten
 *       times the GEMM paths' (see {@link Winograd3x3}); {@value #WINOGRAD_PROPERTY}{@code =false}
 *       keeps such shapes on the GEMM paths.</li>
 *   <li>{@link Path#WINOGRAD2}: the same shapes where F(4x4, 3x3) is not taken, with many
 *       channels ({@link #winograd2}: small images, or F(4x4, 3x3) weights that outweigh the
 *       tiles): Winograd F(2x2, 3x3), the same class and work items over 2x2 tiles; 16 points,
 *       so 16/36 the transformed weights, and the GEMM paths' error. The same switch turns it off.</li>
 *   <li>{@link Path#DEPTHWISE}: groups = input channels (any multiplier), {@link DepthwiseRows};
 *       work item = (image, range of input channels).</li>
 *   <li>{@link Path#DIRECT}: everything else (groups neither 1 nor depthwise, or scratch too large
 *       for heap arrays): the direct loops below. Work item = (image, output channel, band of
 *       output rows); each accumulates its band in a float array, adding one kernel tap at a time
 *       over a whole row span (the span whose input columns are inside the image is computed
 *       once per tap, so the inner loop has no bounds tests), then applies bias and activation
 *       and writes NCHW.</li>
 * </ul>
 * The system property {@value #PATH_PROPERTY}{@code =direct}, read when a kernel is prepared,
 * sends every shape to the direct loops: the baseline the benchmarks compare with, and a way to
 * rule the fast paths out when a result looks wrong.
 *
 * <p>The fast paths keep their weights packed across runs ({@link PackedWeights}) and borrow the
 * device's per-thread scratch ({@link CpuDevice.Scratch}), so a run allocates nothing; runs of
 * one kernel are serialised, since they share the packed weights.
 */
final class CpuConv2d extends CpuKernel {
    /** The system property that can force the direct loops (value {@code direct}). */
    static final String PATH_PROPERTY = "convkit.cpu.conv";
    /** How much more of its lanes the channel path must use than the spatial path to be chosen. */
    static final double CHANNEL_MARGIN = 1.1;
    /** The channel path's epilogue is amortised over K; below this K the spatial path is kept. */
    static final int CHANNEL_MIN_K = 256;
    /** Work items per thread the fast paths aim for. */
    static final int ITEMS_PER_THREAD_FAST = 4;
    /**
     * Pixel ranges per thread of the channel path: every range streams all the packed weights
     * of its blocks (megabytes on the layers it is chosen for), so fewer, longer ranges than the
     * other paths (1 and 2 measured 9-11% faster than 4 on W3b).
     */
    static final int CHANNEL_ITEMS_PER_THREAD = 1;
    /**
     * The margin instead of {@link #CHANNEL_MARGIN} when the spatial path's ranges are shorter
     * than its full micro-kernel block and it falls back to its narrower kernels (W4b, 1x1 over 728
     * channels at 19x19: channel path 1.9 ms, spatial 2.7 ms at about equal lane shares).
     */
    static final double CHANNEL_MARGIN_SHORT = 0.95;
    /** A range's input slab should stay in the L2 cache: ranges are cut shorter beyond this. */
    static final long SLAB_BYTES = 512 << 10;
    /**
     * The system property that, set to {@code false} when a kernel is prepared, keeps 3x3 layers
     * off both Winograd paths (F(4x4, 3x3)'s results differ from direct summation by more
     * rounding; see {@link Winograd3x3}); see {@link #winograd} for its other values.
     */
    static final String WINOGRAD_PROPERTY = "convkit.cpu.winograd";
    /**
     * Fewest input channels for the Winograd path: its input and output transforms cost per
     * channel what a GEMM over few channels saves (16 -> 16 at 56x56: 0.58x the spatial path's
     * speed on one core; 16 -> 48: 1.15x; 16 -> 64: 1.26x).
     */
    static final int WINOGRAD_MIN_C = 16;
    /**
     * Fewest output channels for the Winograd path: its GEMM computes blocks of 64, so 32 waste
     * half (32 -> 32 at 56x56: 1.03x; 48 -> 48 at 28x28: 1.20x).
     */
    static final int WINOGRAD_MIN_OC = 48;
    /**
     * Fewest 4x4 tiles in the batch for the Winograd path; every transformed weight (36 per
     * input and output channel pair, 4 times the weights) is read once per run and used once per
     * tile, so small images do not pay for them (64 -> 64 at 7x7, 4 tiles: 0.87x; at 14x14, 16
     * tiles: 1.23x). Also at least one tile per MiB of transformed weights: where those stream
     * from memory, they cost more than the multiplies they save (512 -> 512 at 14x14: 36 MiB, 16
     * tiles, 0.78x; 256 -> 256 at 7x7 at batch 4: 9 MiB, 16 tiles, 1.16x).
     */
    static final int WINOGRAD_MIN_TILES = 16;
    /**
     * Fewest input x output channel pairs for F(2x2, 3x3) (160 -> 320 at 7x7, 51200: 1.2x the
     * GEMM paths; 128 -> 128, 16384: 0.5x on two threads; see {@link #winograd2}).
     */
    static final long WINOGRAD2_MIN_PAIRS = 48 << 10;
    /** Floats of a Winograd range's transformed input and GEMM results together: ranges are cut shorter beyond this. */
    static final long WINOGRAD_SCRATCH_FLOATS = 256 << 10;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /** How a shape is computed; see the class comment. */
    enum Path {
        DIRECT, SPATIAL, CHANNEL, DEPTHWISE, WINOGRAD, WINOGRAD2
    }

    private final Conv2d.Geometry g;
    private final Path path;
    private final Runner runner;

    CpuConv2d(CpuDevice device, Conv2d conv, Shape input) {
        this(device, conv, input, forced(conv.geometry(input), device.threads()));
    }

    /** A kernel on a given path (tests cover each); the path must apply to the shape. */
    CpuConv2d(CpuDevice device, Conv2d conv, Shape input, Path path) {
        super(device, conv, List.of(input));
        this.g = conv.geometry(input);
        if (path != Path.DIRECT && !applies(g, path)) {
            throw new IllegalArgumentException("cpu " + describe() + ": path " + path + " does not apply");
        }
        this.path = path;
        int threads = device.threads();
        this.runner = switch (path) {
            case DIRECT -> new Direct(rowsPerBand((long) g.n() * g.oc(), g.oh()));
            case SPATIAL -> new Spatial(spatialRanges(g, threads));
            case CHANNEL -> new Channel(channelRanges(g, threads), threads);
            case DEPTHWISE -> new Depthwise(depthwiseRanges(g, threads));
            case WINOGRAD, WINOGRAD2 -> new Winograd(winogradTile(path), winogradRanges(g, winogradTile(path), threads), threads);
        };
    }

    private static Path forced(Conv2d.Geometry g, int threads) {
        return "direct".equals(System.getProperty(PATH_PROPERTY)) ? Path.DIRECT : path(g, threads);
    }

    /** The path a shape takes on {@code threads} threads (see the class comment). */
    static Path path(Conv2d.Geometry g, int threads) {
        if (g.groups() == g.c() && g.c() > 1) {
            return fits(g, Path.DEPTHWISE, threads) ? Path.DEPTHWISE : Path.DIRECT;
        }
        if (g.groups() != 1 || !fits(g, Path.SPATIAL, threads)) {
            return Path.DIRECT;
        }
        Path wino = winograd(g);
        if (wino != null && fits(g, wino, threads)) {
            return wino;
        }
        long k = g.macsPerOutput();
        Ranges spatial = spatialRanges(g, threads);
        double margin = spatial.sizeMax() < SpatialGemm.BLOCK ? CHANNEL_MARGIN_SHORT : CHANNEL_MARGIN;
        if (k >= CHANNEL_MIN_K && fits(g, Path.CHANNEL, threads)
                && channelEfficiency(g, channelRanges(g, threads)) > margin * spatialEfficiency(g, spatial)) {
            return Path.CHANNEL;
        }
        return Path.SPATIAL;
    }

    /**
     * Which Winograd path {@link #path} sends a shape to (unless its scratch does not fit), or
     * null for none: F(4x4, 3x3) where it pays, else F(2x2, 3x3) where that does
     * ({@link #winograd2}). {@value #WINOGRAD_PROPERTY}{@code =false} turns both off; {@code =4} keeps F(4x4, 3x3) alone (the choice before F(2x2, 3x3)), {@code =2}
     * sends every shape it applies to to F(2x2, 3x3): both for measuring crossovers.
     */
    static Path winograd(Conv2d.Geometry g) {
        String only = System.getProperty(WINOGRAD_PROPERTY);
        if (!applies(g, Path.WINOGRAD) || "false".equals(only) || g.c() < WINOGRAD_MIN_C || g.oc() < WINOGRAD_MIN_OC) {
            return null;
        }
        if ("2".equals(only)) {
            return Path.WINOGRAD2;
        }
        long tiles = (long) g.n() * Winograd3x3.tiles(g, 4);
        long weightBytes = (long) Winograd3x3.points(4) * g.c() * g.oc() * Float.BYTES;
        if (tiles >= WINOGRAD_MIN_TILES && tiles >= weightBytes >> 20) {
            return Path.WINOGRAD;
        }
        return !"4".equals(only) && winograd2(g) ? Path.WINOGRAD2 : null;
    }

    /**
     * Whether F(2x2, 3x3) is chosen over the GEMM paths, where F(4x4, 3x3) is not
     * ({@link #winograd}): images too small for 4x4 tiles, or whose F(4x4, 3x3) weights outweigh
     * their tiles; with at least {@link #WINOGRAD_MIN_TILES} 2x2 tiles in the batch and
     * {@link #WINOGRAD2_MIN_PAIRS} channel pairs. Its transformed weights are 16/36 of F(4x4,
     * 3x3)'s and its tiles waste less of small images, for 1.78 times F(4x4, 3x3)'s multiplies
     * per tile area: where F(4x4, 3x3) is taken it stays faster (14x14 layers below). Measured in
     * one process, batch 1, quiet machine (CpuConvCompare --baseline f43 --after-winograd 2:
     * the choice before F(2x2, 3x3) against F(2x2, 3x3); medians):
     * <pre>
     * layer                     before       2 threads: before, F(2,3)   1 thread: before, F(2,3)
     * 512 -> 512 at 14x14 (VGG)  GEMM          2.20  1.72 ms (1.3x)        4.17  3.06 ms (1.4x)
     * 512 -> 512 at 7x7          GEMM          0.62  0.47-0.60 ms (1.1-1.3x) 1.12  0.88 ms (1.3x)
     * 192 -> 384 at 7x7          GEMM          0.180 0.142 ms (1.3x)       0.32  0.24 ms (1.3x)
     * 160 -> 320 at 7x7          GEMM          0.148 0.121 ms (1.2x)       0.22  0.17 ms (1.3x)
     * 256 -> 256 at 7x7          GEMM          0.162 0.139 ms (1.2x) *     0.28  0.23 ms (1.2x)
     * 128 -> 128 at 7x7          GEMM          0.047 0.089 ms (0.5x)       0.072 0.079 ms (0.9x)
     *  64 ->  64 at 7x7          GEMM          0.015 0.026 ms (0.6x)       0.021 0.025 ms (0.8x)
     * 256 -> 256 at 14x14 (W3b)  F(4x4, 3x3)   0.360 0.384 ms (0.94x)      0.56  0.65 ms (0.86x)
     * 144 -> 288 at 14x14        F(4x4, 3x3)   0.242 0.275 ms (0.88x)      0.39  0.47 ms (0.83x)
     *  96 -> 208 at 14x14        F(4x4, 3x3)   0.125 0.155 ms (0.81x)
     * </pre>
     * (*) An earlier run with fewer quiet rounds gave 0.167 against 0.199 ms (0.84x) there.
     */
    static boolean winograd2(Conv2d.Geometry g) {
        return (long) g.n() * Winograd3x3.tiles(g, 2) >= WINOGRAD_MIN_TILES && (long) g.c() * g.oc() >= WINOGRAD2_MIN_PAIRS;
    }

    /** The tile side of a Winograd path: 4 or 2 outputs. */
    static int winogradTile(Path path) {
        return path == Path.WINOGRAD2 ? 2 : 4;
    }

    private static boolean applies(Conv2d.Geometry g, Path path) {
        return switch (path) {
            case DIRECT -> true;
            case SPATIAL, CHANNEL -> g.groups() == 1;
            case DEPTHWISE -> g.groups() == g.c();
            case WINOGRAD, WINOGRAD2 -> g.groups() == 1 && g.kh() == 3 && g.kw() == 3 && g.sh() == 1 && g.sw() == 1
                    && g.dh() == 1 && g.dw() == 1;
        };
    }

    /** Whether the path's heap arrays (indexed by int) can hold this shape's slabs, accumulators and weights. */
    private static boolean fits(Conv2d.Geometry g, Path path, int threads) {
        long limit = Integer.MAX_VALUE / 4;
        if ((long) g.oc() * g.macsPerOutput() + 64L * g.macsPerOutput() > limit) {
            return false;
        }
        try {
            switch (path) {
                case SPATIAL -> {
                    Ranges r = spatialRanges(g, threads);
                    new PhaseSlab(g, r.rowsMax()).length(g.c());
                    SpatialGemm.accumulatorLength(g.oc(), SpatialGemm.pitch(r.sizeMax()));
                }
                case CHANNEL -> {
                    Ranges r = channelRanges(g, threads);
                    new ChannelGemm(g, r.sizeMax(), r.rowsMax());
                }
                case DEPTHWISE -> new DepthwiseRows(g, g.oh());
                case WINOGRAD, WINOGRAD2 -> {
                    int tile = winogradTile(path);
                    Ranges r = winogradRanges(g, tile, threads);
                    int groupBlocks = winogradGroupBlocks(g, r, threads);
                    Winograd3x3 w = new Winograd3x3(g, tile, r.sizeMax(), groupBlocks);
                    if (groupBlocks < w.blocks && w.sharedLength(g.n()) > limit) {
                        return false;
                    }
                }
                case DIRECT -> {
                }
            }
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The path this kernel takes. */
    Path path() {
        return path;
    }

    /** How many times this kernel has packed its weights (0 on the direct path). */
    int weightPacks() {
        return runner.packs();
    }

    @Override
    protected synchronized void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment b = g.bias() ? CpuDevice.segment(args.get(2)) : null;
        runner.run(x, args.get(1), b, CpuDevice.segment(output));
    }

    /** One path's computation. */
    private abstract class Runner {
        abstract void run(MemorySegment x, DeviceBuffer w, MemorySegment b, MemorySegment y);

        int packs() {
            return 0;
        }
    }

    /**
     * Ranges per image over [0, size) (flattened positions, pixels or channels): range i is
     * [start(i), start(i + 1)), cut at multiples of {@code step}; the longest is {@code sizeMax},
     * and spans at most {@code rowsMax} rows of the range's width.
     */
    record Ranges(int[] starts, int step, int sizeMax, int rowsMax) {
        int count() {
            return starts.length - 1;
        }

        int start(int i) {
            return starts[Math.min(i, count())];
        }

        /**
         * {@code count} ranges of [0, size), each cut at the multiple of {@code step} nearest to
         * its equal share, for items of {@code width} (1 when the range is not of rows).
         */
        static Ranges of(int count, int size, int step, int width) {
            int[] starts = new int[count + 1];
            for (int i = 1; i <= count; i++) {
                long at = (long) i * size / count;
                starts[i] = i == count ? size : (int) Math.min(size, (at + step / 2) / step * step);
            }
            int max = 0;
            for (int i = 0; i < count; i++) {
                max = Math.max(max, starts[i + 1] - starts[i]);
            }
            int rows = Math.min((max + width - 2) / width + 1, Math.ceilDiv(size, width));
            return new Ranges(starts, step, max, rows);
        }

        /**
         * Up to {@code wanted} ranges of [0, size) made of whole steps, for items of {@code width}:
         * as equal as they come, the longer ones first (threads take ranges in order), then the one
         * that also takes the positions past the last whole step, then the shorter ones; one range
         * when there is no whole step. Cut at the step nearest to each equal share instead
         * ({@link #of}), the seed network's conv3 (10 blocks of 96 positions and 14 more, in 8
         * ranges) got ranges of 1, 2, 1, 1, 1, 2, 1 and 1 blocks, the longest last, and one thread
         * waited for the other for 3-4% of the layer.
         */
        static Ranges wholeSteps(int size, int step, int wanted, int width) {
            int whole = size / step;
            int count = Math.max(1, Math.min(whole, wanted));
            int base = whole / count;
            int extra = whole % count;
            int[] starts = new int[count + 1];
            int max = 0;
            int rows = 0;
            for (int i = 0; i < count; i++) {
                int length = (i < extra ? base + 1 : base) * step + (i == extra ? size - whole * step : 0);
                starts[i + 1] = starts[i] + length;
                max = Math.max(max, length);
                rows = Math.max(rows, (starts[i + 1] - 1) / width - starts[i] / width + 1);
            }
            return new Ranges(starts, step, max, rows);
        }
    }

    /**
     * Ranges per image: enough for {@link #ITEMS_PER_THREAD_FAST} items per thread over the
     * batch, a multiple of the thread count where the batch allows (equal items then balance),
     * and at least {@code minCount}; at most {@code max}.
     */
    static int rangeCount(int n, int threads, long minCount, int max) {
        return rangeCount(n, threads, ITEMS_PER_THREAD_FAST, minCount, max);
    }

    /** As {@link #rangeCount(int, int, long, int)}, for {@code perThread} items per thread. */
    static int rangeCount(int n, int threads, int perThread, long minCount, int max) {
        int count = Math.ceilDiv(threads * perThread, n);
        while ((long) count * n % threads != 0 && count < max) {
            count++;
        }
        return (int) Math.max(1, Math.min(max, Math.max(count, minCount)));
    }

    /** Ranges that keep a range's input slab, {@code bytesPerRow} per output row, within {@link #SLAB_BYTES}. */
    static long forCache(long bytesPerRow, int rows) {
        return Math.ceilDiv(bytesPerRow * rows, SLAB_BYTES);
    }

    /** Plane pitch of the spatial path's slab. */
    private static int spatialPitch(Conv2d.Geometry g) {
        return g.ow() + (g.kw() - 1) * g.dw() / g.sw();
    }

    /** Ranges of the spatial path: flattened slab positions (pitch {@link #spatialPitch}), cut at whole vectors. */
    static Ranges spatialRanges(Conv2d.Geometry g, int threads) {
        int wq = spatialPitch(g);
        int positions = (g.oh() - 1) * wq + g.ow();
        long perRow = (long) g.c() * Math.min(g.sh(), g.kh()) * Math.min(g.sw(), g.kw()) * wq * Float.BYTES;
        int count = rangeCount(g.n(), threads, forCache(perRow, g.oh()), Math.ceilDiv(positions, SpatialGemm.L));
        // Whole micro-kernel blocks where there are enough of them: the narrower tail kernels are slower.
        return positions >= count * SpatialGemm.BLOCK ? Ranges.wholeSteps(positions, SpatialGemm.BLOCK, count, wq)
                : Ranges.of(count, positions, SpatialGemm.L, wq);
    }

    /** Ranges of the channel path: output pixels, cut at multiples of the micro-kernel's pixel count. */
    static Ranges channelRanges(Conv2d.Geometry g, int threads) {
        int pixels = g.oh() * g.ow();
        int wp = (g.ow() - 1) * g.sw() + (g.kw() - 1) * g.dw() + 1;
        long perRow = (long) g.c() * g.sh() * wp * Float.BYTES;
        int count = rangeCount(g.n(), threads, CHANNEL_ITEMS_PER_THREAD, forCache(perRow, g.oh()),
                Math.ceilDiv(pixels, ChannelGemm.NP));
        return Ranges.of(count, pixels, ChannelGemm.NP, g.ow());
    }

    /**
     * Groups the channel path splits its output-channel blocks into: with fewer images than
     * threads, one per thread (as far as there are blocks), so that each thread streams only its
     * share of the packed weights per range instead of all of them (2-3% on W3b and W4b at batch 1).
     */
    static int channelGroups(Conv2d.Geometry g, int blocks, int threads) {
        return g.n() < threads ? Math.max(1, Math.min(blocks, threads)) : 1;
    }

    /**
     * Tile ranges of the Winograd paths (tiles of {@code tile} x {@code tile} outputs, numbered row by row): at least 12
     * tiles each where the image has them (the micro-kernel takes 6), fewer where a range's
     * scratch would pass {@link #WINOGRAD_SCRATCH_FLOATS}; multiples of 6 tiles where there are enough.
     */
    static Ranges winogradRanges(Conv2d.Geometry g, int tile, int threads) {
        int tiles = Winograd3x3.tiles(g, tile);
        long perTile = (long) Winograd3x3.points(tile) * (g.c() + Math.ceilDiv(g.oc(), Winograd3x3.OCB) * Winograd3x3.OCB);
        int minCount = (int) Math.min(tiles, Math.ceilDiv(perTile * tiles, WINOGRAD_SCRATCH_FLOATS));
        int count = Math.max(minCount, rangeCount(g.n(), threads, 1, Math.max(1, tiles / 12)));
        int tilesW = Math.ceilDiv(g.ow(), tile);
        // Whole tile rows where they are long enough: their outputs are then one run in NCHW.
        int step = tilesW >= 2 * Winograd3x3.NT && tiles >= 2 * count * tilesW ? tilesW
                : tiles >= 2 * count * Winograd3x3.NT ? Winograd3x3.NT : 1;
        return Ranges.of(count, tiles, step, tilesW);
    }

    /**
     * Output-channel blocks per Winograd work item: all of them, unless there are fewer than 2
     * tile ranges per thread (small images at batch 1); then split so that each thread gets at
     * least 2 items, each streaming only its share of the transformed weights; of the group sizes
     * up to that, the largest that gives the busiest thread fewest blocks (6 blocks in 3 groups
     * of 2 on 2 threads leave one thread twice the work: 1 block per group instead).
     */
    static int winogradGroupBlocks(Conv2d.Geometry g, Ranges ranges, int threads) {
        int blocks = Math.ceilDiv(g.oc(), Winograd3x3.OCB);
        long items = (long) g.n() * ranges.count();
        int groups = items >= 2L * threads ? 1 : (int) Math.min(blocks, Math.ceilDiv(2L * threads, items));
        int most = Math.ceilDiv(blocks, groups);
        if (groups == 1) {
            return most;
        }
        int best = most;
        long bestLoad = Long.MAX_VALUE;
        for (int gb = most; gb >= 1; gb--) {
            long load = Math.ceilDiv(Math.ceilDiv(blocks, gb) * items, threads) * gb;
            if (load < bestLoad) {
                best = gb;
                bestLoad = load;
            }
        }
        return best;
    }

    /** Input-channel ranges of the depthwise path. */
    static Ranges depthwiseRanges(Conv2d.Geometry g, int threads) {
        return Ranges.of(rangeCount(g.n(), threads, 1, g.c()), g.c(), 1, 1);
    }

    /** Share of the spatial path's lanes that compute a wanted output. */
    static double spatialEfficiency(Conv2d.Geometry g, Ranges ranges) {
        long computed = 0;
        for (int i = 0; i < ranges.count(); i++) {
            computed += Math.ceilDiv(ranges.start(i + 1) - ranges.start(i), SpatialGemm.L) * SpatialGemm.L;
        }
        double rows = (double) g.oc() / (Math.ceilDiv(g.oc(), SpatialGemm.MR) * SpatialGemm.MR);
        return rows * g.oh() * g.ow() / computed;
    }

    /** Share of the channel path's lanes that compute a wanted output. */
    static double channelEfficiency(Conv2d.Geometry g, Ranges ranges) {
        long computed = 0;
        for (int i = 0; i < ranges.count(); i++) {
            computed += Math.ceilDiv(ranges.start(i + 1) - ranges.start(i), ChannelGemm.NP) * ChannelGemm.NP;
        }
        int blocks = Math.ceilDiv(g.oc(), ChannelGemm.BLOCK);
        int rest = g.oc() - (blocks - 1) * ChannelGemm.BLOCK;
        int last = rest <= ChannelGemm.L ? ChannelGemm.L : rest <= 2 * ChannelGemm.L ? 2 * ChannelGemm.L
                : ChannelGemm.BLOCK;
        double channels = (double) g.oc() / ((blocks - 1) * ChannelGemm.BLOCK + last);
        return channels * g.oh() * g.ow() / computed;
    }

    /** Bias values on the heap, refreshed every run (they are few). */
    private static float[] readBias(MemorySegment b, float[] into) {
        if (b == null) {
            return null;
        }
        MemorySegment.copy(b, F, 0, into, 0, into.length);
        return into;
    }

    private final class Spatial extends Runner {
        private final Ranges ranges;
        private final PhaseSlab slab;
        private final int pitch;
        private final int k;
        private final int kc;
        private final int[] tap;
        private final PackedWeights weights;
        private final float[] bias;
        private final int slabLength;
        private final int stageLength;
        private final int accLength;

        Spatial(Ranges ranges) {
            this.ranges = ranges;
            this.slab = new PhaseSlab(g, ranges.rowsMax());
            this.k = (int) g.macsPerOutput();
            this.kc = SpatialGemm.chunk(g.kh() * g.kw(), slab.footprint(SpatialGemm.BLOCK));
            this.tap = new int[k];
            int p = 0;
            for (int c = 0; c < g.c(); c++) {
                for (int r = 0; r < g.kh(); r++) {
                    for (int s = 0; s < g.kw(); s++) {
                        tap[p++] = slab.tap(c, r, s);
                    }
                }
            }
            int m = g.oc();
            this.weights = new PackedWeights(SpatialGemm.packedLength(m, k), (src, dst) -> SpatialGemm.pack(src, m, k, kc, dst));
            this.bias = new float[m];
            this.slabLength = slab.length(g.c());
            this.stageLength = slab.stageLength();
            this.pitch = SpatialGemm.pitch(ranges.sizeMax());
            this.accLength = SpatialGemm.accumulatorLength(m, pitch);
        }

        @Override
        void run(MemorySegment x, DeviceBuffer w, MemorySegment b, MemorySegment y) {
            float[] wp = weights.of(w);
            float[] bv = readBias(b, bias);
            boolean relu = g.activation() == Activation.RELU;
            int count = ranges.count();
            int wq = slab.wq;
            cpu.parallelFor(workItems((long) g.n() * count), item -> {
                int n = item / count;
                int q0 = ranges.start(item % count);
                int q1 = ranges.start(item % count + 1);
                if (q0 >= q1) {
                    return;
                }
                int oh0 = q0 / wq;
                CpuDevice.Scratch s = cpu.scratch();
                float[] in = s.floats(CpuDevice.Scratch.SLAB, slabLength);
                slab.fill(x, (long) n * g.c() * g.h() * g.w(), g.c(), oh0, (q1 - 1) / wq + 1, in, 0,
                        s.floats(CpuDevice.Scratch.STAGE, stageLength));
                SpatialGemm.Output out = new SpatialGemm.Output(y, ((long) n * g.oc() * g.oh() + oh0) * g.ow(),
                        (long) g.oh() * g.ow(), wq, g.ow(), relu);
                SpatialGemm.compute(in, tap, k, kc, wp, bv, g.oc(), q0 - oh0 * wq, q1 - oh0 * wq, out,
                        s.floats(CpuDevice.Scratch.ACCUMULATORS, accLength), pitch);
            });
        }

        @Override
        int packs() {
            return weights.packs();
        }
    }

    private final class Channel extends Runner {
        private final Ranges ranges;
        /** Groups of output-channel blocks, each its own work item (see {@link #channelGroups}). */
        private final int groups;
        private final ChannelGemm gemm;
        private final PackedWeights weights;
        private final float[] bias;

        Channel(Ranges ranges, int threads) {
            this.ranges = ranges;
            this.gemm = new ChannelGemm(g, ranges.sizeMax(), ranges.rowsMax());
            this.groups = channelGroups(g, gemm.blocks(), threads);
            this.weights = new PackedWeights(gemm.packedLength(), gemm::pack);
            this.bias = new float[g.oc()];
        }

        @Override
        void run(MemorySegment x, DeviceBuffer w, MemorySegment b, MemorySegment y) {
            float[] wp = weights.of(w);
            float[] bv = readBias(b, bias);
            int count = ranges.count();
            int blocks = gemm.blocks();
            cpu.parallelFor(workItems((long) g.n() * count * groups), item -> {
                int group = item % groups;
                int range = item / groups;
                int p0 = ranges.start(range % count);
                int p1 = ranges.start(range % count + 1);
                int b0 = group * blocks / groups;
                int b1 = (group + 1) * blocks / groups;
                if (p0 < p1 && b0 < b1) {
                    CpuDevice.Scratch s = cpu.scratch();
                    gemm.range(x, y, wp, bv, range / count, p0, p1, b0, b1,
                            s.floats(CpuDevice.Scratch.SLAB, gemm.slabLength()), s.floats(CpuDevice.Scratch.TILE, gemm.tileLength()), s.ints(gemm.pixelsMax()),
                            s.floats(CpuDevice.Scratch.STAGE, gemm.stageLength()));
                }
            });
        }

        @Override
        int packs() {
            return weights.packs();
        }
    }

    private final class Depthwise extends Runner {
        private final Ranges ranges;
        private final DepthwiseRows rows;
        private final float[] bias;

        Depthwise(Ranges ranges) {
            this.ranges = ranges;
            this.rows = new DepthwiseRows(g, g.oh());
            this.bias = new float[g.oc()];
        }

        @Override
        void run(MemorySegment x, DeviceBuffer w, MemorySegment b, MemorySegment y) {
            MemorySegment ws = CpuDevice.segment(w);
            float[] bv = readBias(b, bias);
            int count = ranges.count();
            int mult = rows.multiplier();
            long plane = (long) g.oh() * g.ow();
            cpu.parallelFor(workItems((long) g.n() * count), item -> {
                int n = item / count;
                CpuDevice.Scratch s = cpu.scratch();
                float[] in = s.floats(CpuDevice.Scratch.SLAB, rows.inputLength());
                float[] stage = s.floats(CpuDevice.Scratch.STAGE, rows.stageLength());
                float[] tile = s.floats(CpuDevice.Scratch.TILE, rows.tileLength());
                int c0 = ranges.start(item % count);
                int c1 = ranges.start(item % count + 1);
                float[] wv = s.floats(CpuDevice.Scratch.TAPS, ranges.sizeMax() * mult * rows.taps());
                float[] out = s.floats(CpuDevice.Scratch.PLANE, rows.planeLength());
                rows.begin(in);
                rows.weights(ws, c0 * mult, c1 * mult, wv);
                for (int c = c0; c < c1; c++) {
                    rows.load(x, n, c, 0, g.oh(), in, stage);
                    for (int j = 0; j < mult; j++) {
                        int o = c * mult + j;
                        rows.store(in, wv, (o - c0 * mult) * rows.taps(), bv == null ? 0f : bv[o], y,
                                ((long) n * g.oc() + o) * plane, tile, out);
                    }
                }
            });
        }
    }

    private final class Winograd extends Runner {
        private final Ranges ranges;
        private final int groupBlocks;
        private final int groups;
        private final Winograd3x3 wino;
        private final PackedWeights weights;
        private final float[] bias;
        /** The batch's transformed input, when items split the output channels (else null: each item transforms its own). */
        private final float[] shared;
        /** Channel slices per image of the shared input transform. */
        private final int slices;

        Winograd(int tile, Ranges ranges, int threads) {
            this.ranges = ranges;
            this.groupBlocks = winogradGroupBlocks(g, ranges, threads);
            this.wino = new Winograd3x3(g, tile, ranges.sizeMax(), groupBlocks);
            this.groups = Math.ceilDiv(wino.blocks, groupBlocks);
            this.weights = new PackedWeights(wino.packedLength(), wino::pack);
            this.bias = new float[g.oc()];
            this.shared = groups > 1 ? new float[(int) wino.sharedLength(g.n())] : null;
            this.slices = Math.min(g.c(), Math.ceilDiv(2 * threads, g.n()));
        }

        @Override
        void run(MemorySegment x, DeviceBuffer w, MemorySegment b, MemorySegment y) {
            float[] u = weights.of(w);
            float[] bv = readBias(b, bias);
            boolean relu = g.activation() == Activation.RELU;
            int count = ranges.count();
            if (shared != null) {
                cpu.parallelFor(workItems((long) g.n() * slices), item -> {
                    int slice = item % slices;
                    CpuDevice.Scratch s = cpu.scratch();
                    wino.input(x, item / slices, slice * g.c() / slices, (slice + 1) * g.c() / slices,
                            s.floats(CpuDevice.Scratch.STAGE, wino.stageLength()), shared,
                            s.floats(CpuDevice.Scratch.TILE, Winograd3x3.tileLength()));
                });
            }
            cpu.parallelFor(workItems((long) g.n() * count * groups), item -> {
                int group = item % groups;
                int range = item / groups;
                int t0 = ranges.start(range % count);
                int t1 = ranges.start(range % count + 1);
                int b0 = group * groupBlocks;
                int b1 = Math.min(wino.blocks, b0 + groupBlocks);
                if (t0 < t1 && b0 < b1) {
                    CpuDevice.Scratch s = cpu.scratch();
                    float[] m = s.floats(CpuDevice.Scratch.ACCUMULATORS, wino.mLength());
                    float[] tile = s.floats(CpuDevice.Scratch.TILE, Winograd3x3.tileLength());
                    float[] out = s.floats(CpuDevice.Scratch.PLANE, wino.outLength());
                    if (shared != null) {
                        wino.rangeShared(y, u, bv, relu, range / count, t0, t1, b0, b1, shared, m, tile, out);
                    } else {
                        wino.range(x, y, u, bv, relu, range / count, t0, t1, b0, b1,
                                s.floats(CpuDevice.Scratch.STAGE, wino.stageLength()),
                                s.floats(CpuDevice.Scratch.SLAB, wino.vLength()), m, tile, out);
                    }
                }
            });
        }

        @Override
        int packs() {
            return weights.packs();
        }
    }

    private final class Direct extends Runner {
        private final int rowsPerItem;
        private final ThreadLocal<float[]> scratch;

        Direct(int rowsPerItem) {
            this.rowsPerItem = rowsPerItem;
            int size = rowsPerItem * g.ow();
            this.scratch = ThreadLocal.withInitial(() -> new float[size]);
        }

        @Override
        void run(MemorySegment x, DeviceBuffer w, MemorySegment b, MemorySegment y) {
            MemorySegment ws = CpuDevice.segment(w);
            forEachBand((long) g.n() * g.oc(), g.oh(), rowsPerItem,
                    (plane, oh0, oh1) -> computeBand(x, ws, b, y, plane / g.oc(), plane % g.oc(), oh0, oh1));
        }

        private void computeBand(MemorySegment x, MemorySegment w, MemorySegment b, MemorySegment y, int n, int o,
                int oh0, int oh1) {
            final int ow = g.ow();
            final int cpg = g.cPerGroup();
            final int kh = g.kh();
            final int kw = g.kw();
            float[] acc = scratch.get();
            int len = (oh1 - oh0) * ow;
            float bias = b == null ? 0f : b.getAtIndex(F, o);
            java.util.Arrays.fill(acc, 0, len, bias);

            int c0 = (o / g.ocPerGroup()) * cpg;
            for (int ci = 0; ci < cpg; ci++) {
                long xPlane = ((long) n * g.c() + c0 + ci) * g.h() * g.w();
                long wBase = ((long) o * cpg + ci) * kh * kw;
                for (int r = 0; r < kh; r++) {
                    for (int s = 0; s < kw; s++) {
                        addTap(g, x, xPlane, w.getAtIndex(F, wBase + (long) r * kw + s), r, s, oh0, oh1, acc, 0);
                    }
                }
            }
            long out = (((long) n * g.oc() + o) * g.oh() + oh0) * ow;
            if (g.activation() == Activation.RELU) {
                for (int i = 0; i < len; i++) {
                    y.setAtIndex(F, out + i, Math.max(acc[i], 0f));
                }
            } else {
                MemorySegment.copy(acc, 0, y, F, out * Float.BYTES, len);
            }
        }
    }

    /**
     * Adds kernel tap (r, s), of weight {@code wv}, over the input plane at {@code xPlane} to output
     * rows [oh0, oh1), held in {@code acc} from {@code accBase}, one row of {@code ow} after another.
     * Only the output columns whose input column lies inside the image are visited (a span
     * computed once per tap), so the inner loop has no bounds tests. Shared with the depthwise
     * stage of {@link CpuSeparableConv2d}'s direct path.
     */
    static void addTap(Conv2d.Geometry g, MemorySegment x, long xPlane, float wv, int r, int s, int oh0, int oh1,
            float[] acc, int accBase) {
        final int ow = g.ow();
        final int inW = g.w();
        final int inH = g.h();
        final int sw = g.sw();
        int rowOffset = r * g.dh() - g.padTop();
        int colOffset = s * g.dw() - g.padLeft();
        // Output columns whose input column colOffset + ow * sw lies in [0, inW).
        int owLo = colOffset >= 0 ? 0 : Math.ceilDiv(-colOffset, sw);
        int owHi = Math.min(ow, Math.floorDiv(inW - 1 - colOffset, sw) + 1);
        if (owLo >= owHi) {
            return;
        }
        for (int oh = oh0; oh < oh1; oh++) {
            int ih = oh * g.sh() + rowOffset;
            if (ih < 0 || ih >= inH) {
                continue;
            }
            long src = xPlane + (long) ih * inW + colOffset;
            int dst = accBase + (oh - oh0) * ow;
            for (int c = owLo; c < owHi; c++) {
                acc[dst + c] += wv * x.getAtIndex(F, src + (long) c * sw);
            }
        }
    }
}
