package org.convkit.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.exec.ExecutionMode;
import org.convkit.exec.InferenceResult;
import org.convkit.exec.RunOptions;
import org.convkit.exec.Session;
import org.convkit.memory.Allocator;
import org.convkit.memory.Footprint;
import org.convkit.memory.Liveness;
import org.convkit.memory.Optimizer;
import org.convkit.memory.TensorLife;
import org.convkit.ops.ConvTranspose2d;
import org.convkit.ops.Padding;
import org.convkit.ops.Upsample;
import org.convkit.tensor.Compare;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The FCN-8s-style segmentation network (seed.md section 8): output at the input's resolution,
 * for sizes that are multiples of the total stride 32 and for others; the same on every device;
 * bilinear upsampling; skip connections in the memory plan; plan == measured.
 *
 * <p>Devices are compared with {@code max |y - y_cpu| / max |y_cpu|} and a tolerance of
 * {@value #DEVICE_TOLERANCE}, the tolerance between devices of the demo and SeedNetTest (20
 * layers of float32 sums in different orders; measured here: at most 4.5e-7 on PoCL).
 */
@ExtendWith(HostLeakCheck.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SegmentationTest {
    private static final double DEVICE_TOLERANCE = 1e-4;
    private static final int CLASSES = 5;
    private static final int WIDTH = 4;

    private Allocator host;

    @BeforeAll
    void open() {
        host = Allocator.root("segmentation test host");
    }

    @AfterAll
    void close() {
        host.close();
    }

    static List<String> devices() {
        return TestDevices.all().stream().map(DeviceInfo::name).toList();
    }

    /** Sizes that are multiples of 32, then others (odd, prime, 1x1, very unequal sides). */
    static List<int[]> sizes() {
        return List.of(new int[] {32, 32}, new int[] {64, 96}, new int[] {224, 224}, new int[] {1, 1},
                new int[] {33, 47}, new int[] {45, 37}, new int[] {100, 75}, new int[] {17, 250});
    }

    @Test
    void theOutputHasTheInputsResolutionAtEverySize() {
        for (int[] hw : sizes()) {
            Graph g = Segmentation.fcn(CLASSES, Shape.nchw(2, 3, hw[0], hw[1]), WIDTH);
            assertEquals(Shape.nchw(2, CLASSES, hw[0], hw[1]), g.outputShape(), hw[0] + "x" + hw[1]);
            boolean multiple = hw[0] % Segmentation.STRIDE == 0 && hw[1] % Segmentation.STRIDE == 0;
            long same = List.of("upscore2", "upscore_pool4", "upscore8").stream()
                    .filter(up -> ((ConvTranspose2d) g.layer(up).op()).padding() == Padding.SAME).count();
            assertEquals(multiple, same == 3, hw[0] + "x" + hw[1] + ": " + same + " of 3 upsampling layers pad SAME");
        }
        Graph g = Segmentation.fcn(CLASSES, Shape.nchw(1, 3, 64, 64), WIDTH);
        assertEquals(Shape.nchw(3, CLASSES, 96, 160), g.withInput(Shape.nchw(3, 3, 96, 160)).outputShape(),
                "a graph built at a multiple of 32 re-infers at any other");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> g.withInput(Shape.nchw(1, 3, 65, 64)));
        assertTrue(e.getMessage().contains("fuse_pool4"), e.getMessage());
        Graph odd = Segmentation.fcn(CLASSES, Shape.nchw(1, 3, 45, 37), WIDTH);
        assertThrows(IllegalArgumentException.class, () -> odd.withInput(Shape.nchw(1, 3, 64, 64)),
                "a graph built at another size carries that size's crops");
        assertEquals(g.parameterCount(), odd.parameterCount(), "parameters do not depend on the size");
        assertEquals(742_463, Segmentation.fcn(1).parameterCount());
        assertThrows(IllegalArgumentException.class, () -> Segmentation.fcn(0, Shape.nchw(1, 3, 32, 32), 4));
        assertThrows(IllegalArgumentException.class, () -> Segmentation.fcn(2, Shape.of(3, 32, 32), 4));
    }

    /** Every device's scores and class map against the CPU backend's, at a multiple of 32 and at an odd size. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void everyDeviceAgreesWithTheCpuBackend(String device) {
        for (int[] hw : List.of(new int[] {64, 64}, new int[] {45, 37})) {
            Shape in = Shape.nchw(2, 3, hw[0], hw[1]);
            try (Model m = Segmentation.build(Segmentation.fcn(CLASSES, in, WIDTH), 31);
                    Tensor x = Tensor.allocate(in, DType.F32, host, "x").fillUniform(32, 0f, 1f);
                    Device cpu = Backends.system().open("cpu");
                    Device d = Backends.system().open(device);
                    Session ref = Session.open(m, cpu);
                    Session s = Session.open(m, d);
                    InferenceResult r = ref.run(x, RunOptions.DEFAULT.withHostAllocator(host));
                    InferenceResult y = s.run(x, RunOptions.DEFAULT.withHostAllocator(host))) {
                assertEquals(Shape.nchw(2, CLASSES, hw[0], hw[1]), y.output().shape());
                double diff = Compare.maxRelativeDifference(y.output(), r.output());
                assertTrue(diff <= DEVICE_TOLERANCE, device + " " + in + ": vs cpu " + diff);
                int[] map = Segmentation.classMap(y.output());
                assertEquals(2 * hw[0] * hw[1], map.length);
                assertTrue(java.util.Arrays.stream(map).allMatch(c -> c >= 0 && c < CLASSES));
                assertTrue(java.util.Arrays.stream(map).distinct().count() > 1, "random weights give several classes");
            }
        }
    }

    /**
     * The bilinear filler makes upscore8 (kernel 16, stride 8, 4 cropped) compute ONNX Resize's
     * half-pixel bilinear upsampling away from the border: compared with {@link Upsample} on
     * every device, for the output pixels whose source coordinate lies inside the input, within
     * 1e-6 (inputs in [-1, 1); the two sum the same dyadic weights in another order, measured
     * here: 1.2e-7, one rounding).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void bilinearlyInitialisedUpsamplingIsBilinearInterpolation(String device) {
        Shape scores = Shape.nchw(1, CLASSES, 4, 6);
        try (Model fcn = Segmentation.build(Segmentation.fcn(CLASSES, Shape.nchw(1, 3, 32, 48), WIDTH), 1)) {
            Layer up = fcn.layer("upscore8");
            Graph g = Graph.builder("upscore8", scores).add("up", up.op()).graph();
            Graph ref = Graph.builder("resize", scores).add("resize", Upsample.bilinear(8)).graph();
            try (Model a = Model.withParameters(g, l -> fcn.parameters("upscore8"));
                    Model b = Model.withRandomParameters(ref, 1);
                    Tensor x = Tensor.allocate(scores, DType.F32, host, "scores").fillUniform(2, -1f, 1f);
                    Device d = Backends.system().open(device);
                    Session sa = Session.open(a, d);
                    Session sb = Session.open(b, d);
                    InferenceResult ya = sa.run(x, RunOptions.DEFAULT.withHostAllocator(host));
                    InferenceResult yb = sb.run(x, RunOptions.DEFAULT.withHostAllocator(host))) {
                assertEquals(Shape.nchw(1, CLASSES, 32, 48), ya.output().shape());
                double diff = 0;
                for (int c = 0; c < CLASSES; c++) {
                    for (int h = 4; h < 32 - 4; h++) {
                        for (int w = 4; w < 48 - 4; w++) {
                            diff = Math.max(diff, Math.abs(ya.output().get(0, c, h, w) - yb.output().get(0, c, h, w)));
                        }
                    }
                }
                assertTrue(diff <= 1e-6, device + ": upscore8 vs bilinear resize " + diff);
                assertTrue(Math.abs(ya.output().get(0, 0, 0, 0) - yb.output().get(0, 0, 0, 0)) > 1e-3,
                        "at the border the transposed convolution reads zeros: the comparison has to stop there");
            }
        }
    }

    @Test
    void theMemoryPlanKeepsTheSkipScoresAliveUntilTheirAdd() {
        Graph g = Segmentation.fcn(CLASSES, Shape.nchw(2, 3, 64, 64), WIDTH);
        Liveness l = Liveness.inference(g, DType.F32);
        List<String> steps = l.steps();
        for (String[] skip : new String[][] {{"score_pool3", "fuse_pool3"}, {"score_pool4", "fuse_pool4"}}) {
            TensorLife t = l.tensors().stream().filter(x -> x.name().equals(skip[0])).findFirst().orElseThrow();
            assertEquals(steps.indexOf(skip[0]), t.first());
            assertEquals(steps.indexOf(skip[1]), t.last(), skip[0] + " lives until " + skip[1]);
            for (int s = t.first(); s <= t.last(); s++) {
                assertTrue(l.aliveAt(s).contains(t), skip[0] + " at " + steps.get(s));
            }
        }
        TensorLife pool3 = l.tensors().stream().filter(x -> x.name().equals("pool3")).findFirst().orElseThrow();
        assertEquals(steps.indexOf("conv4"), pool3.last(), "scored at once, the wide pool3 is not kept for the skip");

        Footprint f = Footprint.of(g, DType.F32, Optimizer.MOMENTUM, 128);
        assertEquals(g.parameterBytes(DType.F32), f.parameterBytes());
        assertTrue(f.inferencePlanned() >= f.inferenceLowerBound() && f.inferenceLowerBound() < f.inferenceNaive(),
                "planned " + f.inferencePlanned() + ", lower bound " + f.inferenceLowerBound() + ", naive " + f.inferenceNaive());
        assertTrue(f.inferencePlanned() <= 1.05 * f.inferenceLowerBound(),
                "planned " + f.inferencePlanned() + " vs lower bound " + f.inferenceLowerBound());
        Liveness training = f.training();
        TensorLife fwd = training.tensors().stream().filter(x -> x.name().equals("score_pool3")).findFirst().orElseThrow();
        assertTrue(fwd.last() >= training.steps().indexOf("fuse_pool3"), "training keeps the skip at least as long");
        long sum = f.trainingTextbook() + f.trainingDifference().stream().mapToLong(Footprint.Line::bytes).sum();
        assertEquals(f.trainingPlanned(), sum, "the training report's lines add up");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void measuredEqualsPlannedInBothModes(String device) {
        for (int[] hw : List.of(new int[] {64, 64}, new int[] {45, 37})) {
            Shape in = Shape.nchw(2, 3, hw[0], hw[1]);
            try (Model m = Segmentation.build(Segmentation.fcn(CLASSES, in, WIDTH), 41);
                    Tensor x = Tensor.allocate(in, DType.F32, host, "x").fillUniform(42, 0f, 1f);
                    Device d = Backends.system().open(device)) {
                long params = m.parameterBytes(DType.F32);
                Footprint f = Footprint.of(m.graph(), DType.F32, Optimizer.SGD, d.viewAlignment());
                Tensor[] outputs = new Tensor[2];
                for (ExecutionMode mode : ExecutionMode.values()) {
                    try (Session s = Session.open(m, d, mode);
                            InferenceResult r = s.run(x, RunOptions.DEFAULT.withHostAllocator(host))) {
                        long planned = mode == ExecutionMode.PLANNED ? f.inferencePlanned() : f.inferenceLowerBound();
                        assertEquals(planned, s.allocator().peakBytes(), device + " " + in + " " + mode);
                        assertEquals(params + s.liveness().peakBytes(), f.inferenceLowerBound(),
                                "the session's plan is the report's");
                        outputs[mode.ordinal()] = Tensor.allocate(r.output().shape(), DType.F32, host, mode.name());
                        outputs[mode.ordinal()].copyFrom(r.output());
                    }
                }
                try {
                    assertEquals(0.0, Compare.maxRelativeDifference(outputs[0], outputs[1]), "eager == planned, bit for bit");
                } finally {
                    outputs[0].close();
                    outputs[1].close();
                }
            }
        }
    }

    @Test
    void theClassMapIsTheArgmaxOverChannels() {
        // [1, 3, 2, 2]: per pixel (0,0) class 2, (0,1) class 0, (1,0) a tie of 0 and 1 -> 0, (1,1) class 1.
        float[] v = {
            0f, 5f, 1f, -1f,
            1f, 2f, 1f, 4f,
            3f, 4f, -2f, 0f};
        try (Tensor t = Tensor.of(Shape.nchw(1, 3, 2, 2), v, host, "scores")) {
            assertArrayEquals(new int[] {2, 0, 0, 1}, Segmentation.classMap(t));
            t.set(7, Float.NaN);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Segmentation.classMap(t));
            assertTrue(e.getMessage().contains("class 1 at (n=0, h=1, w=1) is NaN"), e.getMessage());
        }
        try (Tensor flat = Tensor.allocate(Shape.of(2, 3), DType.F32, host, "flat")) {
            assertThrows(IllegalArgumentException.class, () -> Segmentation.classMap(flat));
        }
    }
}
