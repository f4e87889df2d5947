package org.convkit.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;

import org.convkit.backend.Conv2dConsistencyTest;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.memory.Allocator;
import org.convkit.ops.Activation;
import org.convkit.ops.ActivationOp;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
import org.convkit.ops.ref.Conv2dRef;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The CPU conv2d paths ({@link CpuConv2d.Path}): the consistency sweep of
 * {@link Conv2dConsistencyTest} takes every path, at the edge sizes each blocks by (as chosen
 * on two threads: choices and ranges depend on the thread count, and these tests fix it, while
 * the sweep itself runs with one thread per processor); every sweep case also runs, against
 * the reference, on every path that applies to it (not only the chosen one); the device takes
 * the chosen path; the system property selects the direct loops; packed weights follow every
 * write to their buffer.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(HostLeakCheck.class)
class CpuConv2dPathsTest {
    /** Two threads (the development machine's count) everywhere, so that ranges and choices do not vary. */
    private static final int THREADS = 2;
    private CpuDevice device;

    @BeforeAll
    void open() {
        device = CpuBackend.open(0, THREADS);
    }

    @AfterAll
    void close() {
        device.close();
    }

    private static CpuConv2d.Path chosen(Conv2dConsistencyTest.Case c) {
        return CpuConv2d.path(c.geometry(), THREADS);
    }

    private static List<CpuConv2d.Path> applicable(Conv2d.Geometry g) {
        List<CpuConv2d.Path> paths = new ArrayList<>(List.of(CpuConv2d.Path.DIRECT));
        if (g.groups() == 1) {
            paths.add(CpuConv2d.Path.SPATIAL);
            paths.add(CpuConv2d.Path.CHANNEL);
        }
        if (g.groups() == g.c()) {
            paths.add(CpuConv2d.Path.DEPTHWISE);
        }
        if (Conv2dConsistencyTest.winogradShape(g)) {
            paths.add(CpuConv2d.Path.WINOGRAD);
            paths.add(CpuConv2d.Path.WINOGRAD2);
        }
        return paths;
    }

    @Test
    void theSweepTakesEveryPathAtItsEdgeSizes() {
        Map<CpuConv2d.Path, List<Conv2d.Geometry>> by = new EnumMap<>(CpuConv2d.Path.class);
        for (Conv2dConsistencyTest.Case c : Conv2dConsistencyTest.cases()) {
            by.computeIfAbsent(chosen(c), p -> new ArrayList<>()).add(c.geometry());
        }
        String counts = by.entrySet().stream().map(e -> e.getKey() + " " + e.getValue().size()).toList().toString();
        int l = SpatialGemm.L;
        // Spatial: widths off the vector, channels off the 4-row block, strides, dilations, 1x1, batches, whole 96-blocks.
        List<Conv2d.Geometry> spatial = by.getOrDefault(CpuConv2d.Path.SPATIAL, List.of());
        atLeast(spatial, 100, g -> true, "spatial", counts);
        atLeast(spatial, 10, g -> g.ow() > l && g.ow() % l != 0, "spatial, OW > 16 not a multiple of 16", counts);
        atLeast(spatial, 20, g -> g.oc() % SpatialGemm.MR != 0, "spatial, OC not a multiple of 4", counts);
        atLeast(spatial, 20, g -> g.sh() > 1 || g.sw() > 1, "spatial, strided", counts);
        atLeast(spatial, 5, g -> g.dh() > 1 || g.dw() > 1, "spatial, dilated", counts);
        atLeast(spatial, 5, g -> g.kh() * g.kw() == 1, "spatial, 1x1", counts);
        atLeast(spatial, 10, g -> g.n() > 1, "spatial, batch > 1", counts);
        atLeast(spatial, 2, g -> CpuConv2d.spatialRanges(g, THREADS).step() == SpatialGemm.BLOCK,
                "spatial, ranges of whole 96-position blocks", counts);
        atLeast(spatial, 20, g -> CpuConv2d.spatialRanges(g, THREADS).step() == l, "spatial, ranges of vectors", counts);
        atLeast(spatial, 2, g -> pairSplit(g) && g.padLeft() % 2 == 1, "spatial, stride-2 rows split by vector pairs, odd left pad", counts);
        atLeast(spatial, 1, g -> pairSplit(g) && g.padLeft() % 2 == 0 && g.padLeft() > 0,
                "spatial, stride-2 rows split by vector pairs, even left pad", counts);
        atLeast(spatial, 1, g -> pairSplit(g) && g.padLeft() == 0, "spatial, stride-2 rows split by vector pairs, no left pad", counts);
        atLeast(spatial, 2, g -> CpuConv2d.spatialRanges(g, THREADS).step() == SpatialGemm.BLOCK && g.n() > 1,
                "spatial, ranges of whole 96-position blocks, batch > 1", counts);
        atLeast(spatial, 2, g -> blockCut(g) && positions(g) % SpatialGemm.BLOCK != 0 && unequal(CpuConv2d.spatialRanges(g, THREADS)),
                "spatial, ranges of whole blocks, unequal, and a partial block", counts);
        atLeast(spatial, 3, g -> g.macsPerOutput() > spatialChunk(g) && g.macsPerOutput() % spatialChunk(g) != 0,
                "spatial, K in several chunks, the last shorter", counts);
        // Channel: each width of the last block (1, 2 and 4 vectors), strides, dilation.
        List<Conv2d.Geometry> channel = by.getOrDefault(CpuConv2d.Path.CHANNEL, List.of());
        atLeast(channel, 1, g -> g.oc() % ChannelGemm.BLOCK > 0 && g.oc() % ChannelGemm.BLOCK <= l, "channel, last block 1 vector", counts);
        atLeast(channel, 1, g -> g.oc() % ChannelGemm.BLOCK > l && g.oc() % ChannelGemm.BLOCK <= 2 * l, "channel, last block 2 vectors", counts);
        atLeast(channel, 1, g -> g.oc() % ChannelGemm.BLOCK > 2 * l, "channel, last block 4 vectors, partly empty", counts);
        atLeast(channel, 1, g -> g.oc() % ChannelGemm.BLOCK == 0, "channel, full blocks only", counts);
        atLeast(channel, 1, g -> CpuConv2d.channelGroups(g, Math.ceilDiv(g.oc(), ChannelGemm.BLOCK), 2) > 1
                && g.oc() % ChannelGemm.BLOCK != 0, "channel, blocks split across threads, last block narrower", counts);
        atLeast(channel, 1, g -> g.n() > 1, "channel, batch > 1", counts);
        atLeast(channel, 1, g -> CpuConv2d.channelRanges(g, 2).sizeMax() > ChannelGemm.L
                && CpuConv2d.channelRanges(g, 2).sizeMax() % ChannelGemm.L != 0, "channel, ranges of vectors and a tail", counts);
        atLeast(channel, 2, g -> g.sh() > 1 || g.sw() > 1, "channel, strided", counts);
        atLeast(channel, 1, g -> g.dh() > 1 || g.dw() > 1, "channel, dilated", counts);
        atLeast(channel, 1, g -> g.n() > 1, "channel, batch > 1", counts);
        atLeast(channel, 1, g -> CpuConv2d.channelRanges(g, 2).sizeMax() > ChannelGemm.L
                && CpuConv2d.channelRanges(g, 2).sizeMax() % ChannelGemm.L != 0, "channel, ranges of vectors and a tail", counts);
        // Depthwise: multipliers, strides, dilations; the direct loops: grouped convolutions.
        List<Conv2d.Geometry> depthwise = by.getOrDefault(CpuConv2d.Path.DEPTHWISE, List.of());
        atLeast(depthwise, 30, g -> true, "depthwise", counts);
        atLeast(depthwise, 10, g -> g.oc() > g.c(), "depthwise, multiplier > 1", counts);
        atLeast(depthwise, 10, g -> g.sh() > 1 || g.sw() > 1, "depthwise, strided", counts);
        atLeast(depthwise, 3, g -> g.dh() > 1 || g.dw() > 1, "depthwise, dilated", counts);
        atLeast(depthwise, 2, g -> DepthwiseRows.compact(g) && g.ow() < l, "depthwise compact, OW < 16", counts);
        atLeast(depthwise, 1, g -> DepthwiseRows.compact(g) && g.ow() == l, "depthwise compact, OW = 16", counts);
        atLeast(depthwise, 3, g -> DepthwiseRows.compact(g) && g.ow() > l, "depthwise compact, OW > 16", counts);
        atLeast(depthwise, 2, g -> DepthwiseRows.compact(g) && g.kh() * g.kw() != 9, "depthwise compact, not 3x3", counts);
        atLeast(depthwise, 2, g -> DepthwiseRows.compact(g) && g.padLeft() != g.padRight(), "depthwise compact, uneven columns", counts);
        atLeast(depthwise, 2, g -> DepthwiseRows.compact(g) && g.n() > 1, "depthwise compact, batch > 1", counts);
        atLeast(depthwise, 2, g -> DepthwiseRows.halves(g) && g.padLeft() == 0, "depthwise halves, no left padding", counts);
        atLeast(depthwise, 2, g -> DepthwiseRows.halves(g) && g.padLeft() > 0, "depthwise halves, left padding", counts);
        atLeast(depthwise, 1, g -> DepthwiseRows.halves(g) && g.ow() >= l, "depthwise halves, phase rows of a vector or more", counts);
        atLeast(depthwise, 2, g -> DepthwiseRows.halves(g) && g.oc() > g.c(), "depthwise halves, multiplier > 1", counts);
        atLeast(depthwise, 1, g -> DepthwiseRows.halves(g) && g.n() > 1, "depthwise halves, batch > 1", counts);
        // Winograd: sides not multiples of 4, batches, uneven pads, ranges that cut a tile row, channels split over a shared input.
        List<Conv2d.Geometry> winograd = by.getOrDefault(CpuConv2d.Path.WINOGRAD, List.of());
        atLeast(winograd, 6, g -> true, "winograd", counts);
        atLeast(winograd, 3, g -> g.oh() % 4 != 0 || g.ow() % 4 != 0, "winograd, sides not multiples of 4", counts);
        atLeast(winograd, 2, g -> g.n() > 1, "winograd, batch > 1", counts);
        atLeast(winograd, 1, g -> g.padLeft() != g.padRight() && g.padTop() != g.padBottom(), "winograd, uneven pads", counts);
        atLeast(winograd, 1, g -> g.activation() == Activation.RELU, "winograd, ReLU", counts);
        atLeast(winograd, 1, g -> !g.bias(), "winograd, no bias", counts);
        atLeast(winograd, 1, g -> {
            CpuConv2d.Ranges r = CpuConv2d.winogradRanges(g, 4, THREADS);
            return r.count() > 1 && r.start(1) % Math.ceilDiv(g.ow(), 4) != 0;
        }, "winograd, a range that cuts a tile row", counts);
        atLeast(winograd, 2, g -> CpuConv2d.winogradGroupBlocks(g, CpuConv2d.winogradRanges(g, 4, THREADS), THREADS)
                < Math.ceilDiv(g.oc(), 64), "winograd, output channels split over a shared input transform", counts);
        atLeast(winograd, 1, g -> g.n() > 1 && CpuConv2d.winogradGroupBlocks(g, CpuConv2d.winogradRanges(g, 4, THREADS), THREADS)
                < Math.ceilDiv(g.oc(), 64), "winograd, shared input transform, batch > 1", counts);
        // F(2x2, 3x3) is chosen only for layers above the sweep's size cap (CpuWinogradTest runs
        // those); every 3x3 stride-1 case runs on it (everyPathThatAppliesMatchesTheReference): its edges there.
        List<Conv2d.Geometry> winograd2 = Conv2dConsistencyTest.cases().stream().map(Conv2dConsistencyTest.Case::geometry)
                .filter(Conv2dConsistencyTest::winogradShape).toList();
        atLeast(winograd2, 3, g -> g.oh() % 2 != 0 || g.ow() % 2 != 0, "winograd2, sides not multiples of 2", counts);
        atLeast(winograd2, 1, g -> g.oh() < 2 && g.ow() < 2, "winograd2, image below one tile", counts);
        atLeast(winograd2, 2, g -> g.n() > 1, "winograd2, batch > 1", counts);
        atLeast(winograd2, 1, g -> g.padLeft() != g.padRight() && g.padTop() != g.padBottom(), "winograd2, uneven pads", counts);
        atLeast(winograd2, 1, g -> g.padTop() + g.padLeft() + g.padBottom() + g.padRight() == 0, "winograd2, VALID", counts);
        atLeast(winograd2, 1, g -> g.activation() == Activation.RELU, "winograd2, ReLU", counts);
        atLeast(winograd2, 1, g -> !g.bias(), "winograd2, no bias", counts);
        atLeast(winograd2, 2, g -> CpuConv2d.winogradGroupBlocks(g, CpuConv2d.winogradRanges(g, 2, THREADS), THREADS)
                < Math.ceilDiv(g.oc(), 64), "winograd2, output channels split over a shared input transform", counts);
        atLeast(winograd2, 1, g -> g.n() > 1 && CpuConv2d.winogradGroupBlocks(g, CpuConv2d.winogradRanges(g, 2, THREADS), THREADS)
                < Math.ceilDiv(g.oc(), 64), "winograd2, shared input transform, batch > 1", counts);
        atLeast(winograd2, 1, g -> {
            CpuConv2d.Ranges r = CpuConv2d.winogradRanges(g, 2, THREADS);
            return r.count() > 1 && r.start(1) % Math.ceilDiv(g.ow(), 2) != 0;
        }, "winograd2, a range that cuts a tile row", counts);
        atLeast(winograd2, 1, g -> {
            CpuConv2d.Ranges r = CpuConv2d.winogradRanges(g, 2, THREADS);
            return r.count() > 1 && r.step() == Math.ceilDiv(g.ow(), 2);
        }, "winograd2, ranges of whole tile rows", counts);
        atLeast(by.getOrDefault(CpuConv2d.Path.DIRECT, List.of()), 10, g -> g.groups() > 1 && g.groups() < g.c(),
                "direct, grouped", counts);
    }

    /** Whether the spatial slab splits this shape's input rows a pair of vectors at a time (both column phases of stride 2, both outputs a vector or more). */
    private static boolean pairSplit(Conv2d.Geometry g) {
        int wq = g.ow() + (g.kw() - 1) * g.dw() / g.sw();
        return g.groups() == 1 && g.sw() == 2 && g.kw() > 1 && g.dw() % 2 == 1 && g.w() / 2 >= SpatialGemm.L
                && wq - (g.padLeft() + 1) / 2 >= SpatialGemm.L;
    }

    private static boolean blockCut(Conv2d.Geometry g) {
        return CpuConv2d.spatialRanges(g, THREADS).step() == SpatialGemm.BLOCK;
    }

    private static int positions(Conv2d.Geometry g) {
        return (g.oh() - 1) * (g.ow() + (g.kw() - 1) * g.dw() / g.sw()) + g.ow();
    }

    /** Whether the ranges differ in their number of whole steps. */
    private static boolean unequal(CpuConv2d.Ranges r) {
        for (int i = 1; i < r.count(); i++) {
            if ((r.start(i + 1) - r.start(i)) / r.step() != (r.start(1) - r.start(0)) / r.step()) {
                return true;
            }
        }
        return false;
    }

    private static List<Integer> starts(CpuConv2d.Ranges r) {
        return java.util.Arrays.stream(r.starts()).boxed().toList();
    }

    @Test
    void rangesOfWholeStepsAreAsEqualAsTheyComeLongestFirst() {
        int b = SpatialGemm.BLOCK;
        // The seed network's conv3: 10 blocks and 14 positions (rows of 39), 16 ranges wanted.
        CpuConv2d.Ranges r = CpuConv2d.Ranges.wholeSteps(974, b, 16, 39);
        assertEquals(10, r.count());
        assertEquals(b + 14, r.start(1));
        for (int i = 1; i < 10; i++) {
            assertEquals(b, r.start(i + 1) - r.start(i), "range " + i);
        }
        assertEquals(974, r.start(10));
        assertEquals(974, r.start(11), "past the last range: the end");
        assertEquals(b + 14, r.sizeMax());
        assertEquals(4, r.rowsMax(), "96 positions over rows of 39 span at most 4 rows (110..205: rows 2..5)");
        // 39 blocks and 55 positions in 16 ranges: 7 of 3 blocks, 2 blocks and the tail, 8 of 2 blocks.
        r = CpuConv2d.Ranges.wholeSteps(39 * b + 55, b, 16, 1);
        assertEquals(16, r.count());
        for (int i = 0; i < 16; i++) {
            assertEquals(i < 7 ? 3 * b : i == 7 ? 2 * b + 55 : 2 * b, r.start(i + 1) - r.start(i), "range " + i);
        }
        assertEquals(39 * b + 55, r.start(16));
        // Fewer positions than a step: one range.
        assertEquals(List.of(0, 50), starts(CpuConv2d.Ranges.wholeSteps(50, b, 16, 1)));
        // Whole steps only.
        assertEquals(List.of(0, 2 * b, 3 * b, 4 * b), starts(CpuConv2d.Ranges.wholeSteps(4 * b, b, 3, 1)));
        // Nearest-multiple cuts (the other paths): 3 ranges of 20 in steps of 6, ends exact.
        assertEquals(List.of(0, 6, 12, 20), starts(CpuConv2d.Ranges.of(3, 20, 6, 1)));
    }

    /** The spatial path's K per chunk for this shape. */
    private static int spatialChunk(Conv2d.Geometry g) {
        PhaseSlab slab = new PhaseSlab(g, CpuConv2d.spatialRanges(g, THREADS).rowsMax());
        return SpatialGemm.chunk(g.kh() * g.kw(), slab.footprint(SpatialGemm.BLOCK));
    }

    private static void atLeast(List<Conv2d.Geometry> cases, int min, Predicate<Conv2d.Geometry> what, String name,
            String counts) {
        long n = cases.stream().filter(what).count();
        assertTrue(n >= min, name + ": " + n + " cases, want " + min + " (paths: " + counts + ")");
    }

    @Test
    void theDeviceTakesTheChosenPath() {
        int processors = Runtime.getRuntime().availableProcessors();
        try (CpuDevice sweepDevice = CpuBackend.open(0, processors)) {
            for (Conv2dConsistencyTest.Case c : Conv2dConsistencyTest.cases()) {
                try (Kernel k = sweepDevice.prepare(c.conv(), List.of(c.input()))) {
                    assertEquals(CpuConv2d.path(c.geometry(), processors), ((CpuConv2d) k).path(), c.toString());
                }
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> everyPathThatAppliesMatchesTheReference() {
        return Conv2dConsistencyTest.cases().stream().flatMap(c -> applicable(c.geometry()).stream().map(path ->
                DynamicTest.dynamicTest("cpu " + path + " " + c, () -> {
                    Conv2d.Geometry g = c.geometry();
                    boolean wino = path == CpuConv2d.Path.WINOGRAD || path == CpuConv2d.Path.WINOGRAD2;
                    try (Kernel k = new CpuConv2d(device, c.conv(), c.input(), path)) {
                        OpHarness.check(k, args -> {
                            Conv2dRef.Result r = Conv2dRef.forward(g, args.get(0), args.get(1), g.bias() ? args.get(2) : null);
                            return wino
                                    ? new OpHarness.Expected(r.y(), Conv2dConsistencyTest.winogradScale(g, r.magnitude(), CpuConv2d.winogradTile(path)))
                                    : new OpHarness.Expected(r.y(), r.magnitude());
                        }, path == CpuConv2d.Path.WINOGRAD2 ? Conv2dConsistencyTest.WINOGRAD2_TOLERANCE
                                : wino ? Conv2dConsistencyTest.WINOGRAD_TOLERANCE : 1e-5);
                    }
                })));
    }

    @Test
    void aPathThatDoesNotApplyIsRefused() {
        Conv2d grouped = Conv2d.builder(4).kernel(3).groups(2).build();
        Shape in = Shape.nchw(1, 4, 5, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CpuConv2d(device, grouped, in, CpuConv2d.Path.SPATIAL));
        assertTrue(e.getMessage().contains("SPATIAL"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CpuConv2d(device, grouped, in, CpuConv2d.Path.DEPTHWISE));
    }

    @Test
    void theSystemPropertySelectsTheDirectLoops() {
        Conv2d conv = Conv2d.builder(8).kernel(3).padding(Padding.SAME).build();
        List<Shape> in = List.of(Shape.nchw(1, 4, 9, 9));
        System.setProperty(CpuConv2d.PATH_PROPERTY, "direct");
        try (Kernel k = device.prepare(conv, in)) {
            assertEquals(CpuConv2d.Path.DIRECT, ((CpuConv2d) k).path());
        } finally {
            System.clearProperty(CpuConv2d.PATH_PROPERTY);
        }
        try (Kernel k = device.prepare(conv, in)) {
            assertNotEquals(CpuConv2d.Path.DIRECT, ((CpuConv2d) k).path());
        }
    }

    /**
     * The packed weights are redone whenever the weight buffer may have changed: rewritten by an
     * upload, written as another kernel's output, written through its parent when it is a view,
     * or replaced by another buffer; and only then. Each run is compared with the direct loops,
     * which read the weights afresh every time.
     */
    @Test
    void packedWeightsFollowWritesToTheirBuffer() {
        for (CpuConv2d.Path path : List.of(CpuConv2d.Path.SPATIAL, CpuConv2d.Path.CHANNEL, CpuConv2d.Path.WINOGRAD,
                CpuConv2d.Path.WINOGRAD2)) {
            Conv2d conv = Conv2d.builder(20).kernel(3).padding(Padding.SAME).build();
            Shape in = Shape.nchw(1, 30, 6, 7);
            Allocator host = Allocator.root("packing test");
            try (CpuConv2d fast = new CpuConv2d(device, conv, in, path);
                    CpuConv2d direct = new CpuConv2d(device, conv, in, CpuConv2d.Path.DIRECT);
                    Kernel relu = device.prepare(ActivationOp.relu(), List.of(conv.weightShape(in)));
                    Tensor x = Tensor.allocate(in, DType.F32, host, "x").fillUniform(1, -1f, 1f);
                    Tensor w1 = Tensor.allocate(conv.weightShape(in), DType.F32, host, "w1").fillUniform(2, -1f, 1f);
                    Tensor w2 = Tensor.allocate(conv.weightShape(in), DType.F32, host, "w2").fillUniform(3, -1f, 1f);
                    Tensor b = Tensor.allocate(Shape.of(20), DType.F32, host, "b").fillUniform(4, -1f, 1f);
                    Tensor got = Tensor.allocate(fast.outputShape(), DType.F32, host, "got");
                    Tensor want = Tensor.allocate(fast.outputShape(), DType.F32, host, "want");
                    DeviceBuffer xb = device.allocate(x.byteSize(), "x");
                    DeviceBuffer parent = device.allocate(2 * w1.byteSize(), "weights parent");
                    DeviceBuffer wb = device.view(parent, 0, w1.byteSize(), "w");
                    DeviceBuffer other = device.allocate(w1.byteSize(), "other w");
                    DeviceBuffer bb = device.allocate(b.byteSize(), "b");
                    DeviceBuffer yf = device.allocate(got.byteSize(), "y fast");
                    DeviceBuffer yd = device.allocate(got.byteSize(), "y direct")) {
                device.upload(x, xb);
                device.upload(b, bb);
                device.upload(w1, wb);
                Runnable same = () -> {
                    fast.run(List.of(xb, wb, bb), yf);
                    direct.run(List.of(xb, wb, bb), yd);
                    device.download(yf, got);
                    device.download(yd, want);
                    assertTrue(org.convkit.tensor.Compare.maxRelativeDifference(got, want) < 1e-5, path + ": stale weights");
                };
                same.run();
                assertEquals(1, fast.weightPacks(), path + ": first run packs");
                same.run();
                assertEquals(1, fast.weightPacks(), path + ": unchanged weights are not packed again");
                device.upload(w2, wb);
                same.run();
                assertEquals(2, fast.weightPacks(), path + ": an upload into the buffer");
                relu.run(List.of(wb), other);
                relu.run(List.of(other), wb);
                same.run();
                assertEquals(3, fast.weightPacks(), path + ": the buffer as a kernel's output");
                device.upload(w1, parent);
                same.run();
                assertEquals(4, fast.weightPacks(), path + ": an upload into the view's parent");
                device.upload(w2, other);
                fast.run(List.of(xb, other, bb), yf);
                direct.run(List.of(xb, other, bb), yd);
                device.download(yf, got);
                device.download(yd, want);
                assertTrue(org.convkit.tensor.Compare.maxRelativeDifference(got, want) < 1e-5, path + ": another buffer");
                assertEquals(5, fast.weightPacks(), path + ": another buffer");
            } finally {
                host.close();
            }
        }
    }
}
