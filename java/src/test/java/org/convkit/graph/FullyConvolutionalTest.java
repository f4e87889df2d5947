package org.convkit.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Consumer;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.exec.InferenceResult;
import org.convkit.exec.RunOptions;
import org.convkit.exec.Session;
import org.convkit.memory.Allocator;
import org.convkit.ops.Activation;
import org.convkit.ops.ActivationOp;
import org.convkit.ops.Binary;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.ops.Reshape;
import org.convkit.ops.Softmax;
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
 * Fully convolutional conversion (seed.md section 7) of a small classifier: conv, pool, conv,
 * pool (all VALID, total stride 4), Flatten, Dense + ReLU, Dense, with and without a softmax.
 *
 * <p>Tolerance: {@value #TOLERANCE} of the largest magnitude of the original network's output,
 * the whole-network tolerance of SeedNetTest against its reference; the convolutions sum the
 * same products as the dense layers in another order, a float32 rounding difference (measured
 * here: at most 7.3e-7, on the cpu device and on PoCL).
 */
@ExtendWith(HostLeakCheck.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FullyConvolutionalTest {
    private static final double TOLERANCE = 1e-5;
    /** Batch 2 of 22x26 RGB images: conv -> 20x24, pool -> 10x12, conv -> 8x10, pool -> 4x5. */
    private static final Shape INPUT = Shape.nchw(2, 3, 22, 26);
    /** The product of the strides before the Flatten: the two pools. */
    private static final int STRIDE = 4;
    private static final int CLASSES = 10;
    /** Twice the height plus 5, the width plus 9: cells 7 x 3. */
    private static final Shape LARGE = Shape.nchw(2, 3, 2 * 22 + 5, 26 + 9);

    private Allocator host;

    @BeforeAll
    void open() {
        host = Allocator.root("fully convolutional test host");
    }

    @AfterAll
    void close() {
        host.close();
    }

    static List<String> devices() {
        return TestDevices.all().stream().map(DeviceInfo::name).toList();
    }

    /** The classifier, built with the functional API; softmax at the end or not. */
    static Graph classifier(boolean softmax) {
        Graph.Builder b = Graph.builder("small cnn", INPUT);
        Node x = b.input();
        x = b.apply("conv1", Conv2d.builder(6).kernel(3).padding(Padding.VALID).activation(Activation.RELU).build(), x);
        x = b.apply("pool1", Pool2d.max(2).stride(2).padding(Padding.VALID).build(), x);
        x = b.apply("conv2", Conv2d.builder(8).kernel(3).padding(Padding.VALID).activation(Activation.RELU).build(), x);
        x = b.apply("pool2", Pool2d.max(2).stride(2).padding(Padding.VALID).build(), x);
        x = b.apply("flat", Flatten.axis(1), x);
        x = b.apply("fc1", Dense.linear(32, true, Activation.RELU), x);
        x = b.apply("fc2", Dense.linear(CLASSES, true, Activation.NONE), x);
        if (softmax) {
            x = b.apply("softmax", Softmax.lastAxis(), x);
        }
        return b.graph(x);
    }

    @Test
    void theDenseHeadBecomesConvolutionsWithReshapedWeights() {
        try (Model original = Model.withRandomParameters(classifier(true), 3);
                Model fcn = FullyConvolutional.convert(original)) {
            Graph g = fcn.graph();
            assertEquals(List.of("conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "softmax"),
                    g.layers().stream().map(Layer::name).toList(), "Flatten removed, names kept");
            Conv2d fc1 = (Conv2d) g.layer("fc1").op();
            assertEquals(List.of(4, 5, 32, Activation.RELU), List.of(fc1.kernelH(), fc1.kernelW(), fc1.outChannels(),
                    fc1.activation()), "kernel = the 4x5 feature map, one filter per neuron, ReLU kept");
            assertEquals(Padding.VALID, fc1.padding());
            assertEquals("pool2", g.layer("fc1").inputs().get(0));
            Conv2d fc2 = (Conv2d) g.layer("fc2").op();
            assertEquals(List.of(1, 1, CLASSES), List.of(fc2.kernelH(), fc2.kernelW(), fc2.outChannels()));
            assertEquals(Softmax.of(1), g.layer("softmax").op(), "softmax over the channels");
            assertEquals(Shape.nchw(2, CLASSES, 1, 1), g.outputShape());
            assertEquals(original.parameterCount(), fcn.parameterCount());
            assertEquals(original.flops(), fcn.flops(), "the same multiply-adds");

            // Flatten's feature c*H*W + h*W + w is the convolution's weight [o, c, h, w]: a pure reshape.
            Tensor dense = original.parameters("fc1").get(0);
            Tensor conv = fcn.parameters("fc1").get(0);
            assertEquals(Shape.of(32, 8, 4, 5), conv.shape());
            for (int o = 0; o < 32; o++) {
                for (int c = 0; c < 8; c++) {
                    for (int h = 0; h < 4; h++) {
                        for (int w = 0; w < 5; w++) {
                            assertEquals(dense.get(o * 160L + c * 20 + h * 5 + w), conv.get(o, c, h, w));
                        }
                    }
                }
            }
            assertEquals(Shape.of(CLASSES, 32, 1, 1), fcn.parameters("fc2").get(0).shape());
            assertEquals(original.parameters("fc2").get(1).get(7), fcn.parameters("fc2").get(1).get(7));
            assertEquals(Shape.nchw(2, CLASSES, 7, 3), g.withInput(LARGE).outputShape(), "re-inferable at a larger input");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void onTheOriginalInputTheConvertedNetworkComputesTheOriginal(String device) {
        for (boolean softmax : new boolean[] {true, false}) {
            try (Model original = Model.withRandomParameters(classifier(softmax), 11);
                    Model fcn = FullyConvolutional.convert(original);
                    Tensor x = Tensor.allocate(INPUT, DType.F32, host, "x").fillUniform(12, -1f, 1f)) {
                assertOutputsMatch(device, original, fcn, x, "softmax " + softmax);
            }
        }
    }

    /**
     * A head in other storage: weights {@code [K, N]} (no transB), a scalar bias scaled by beta,
     * ReLU as a layer of its own before and between the dense layers.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void transposedWeightsBroadcastBiasesAndStandaloneActivationsConvertToo(String device) {
        Graph.Builder b = Graph.builder("other head", INPUT);
        Node x = b.apply("conv", Conv2d.builder(4).kernel(3).stride(2).padding(Padding.VALID).build(), b.input());
        x = b.apply("flat", Flatten.axis(1), x);
        x = b.apply("relu0", ActivationOp.relu(), x);
        x = b.apply("fc1", Dense.builder(16).bias(Shape.of(1)).beta(0.5f).build(), x);
        x = b.apply("tanh", ActivationOp.tanh(), x);
        x = b.apply("fc2", Dense.builder(5).bias(Shape.of(1, 5)).beta(2f).transB(true).build(), x);
        x = b.apply("softmax", Softmax.of(1), x);
        try (Model original = Model.withRandomParameters(b.graph(x), 13);
                Model fcn = FullyConvolutional.convert(original);
                Tensor in = Tensor.allocate(INPUT, DType.F32, host, "x").fillUniform(14, -1f, 1f)) {
            assertEquals("conv", fcn.layer("relu0").inputs().get(0));
            assertEquals(Shape.of(16, 4, 10, 12), fcn.parameters("fc1").get(0).shape());
            assertOutputsMatch(device, original, fcn, in, "other head");
        }
    }

    private void assertOutputsMatch(String device, Model original, Model fcn, Tensor x, String what) {
        try (Device d = Backends.system().open(device);
                Session a = Session.open(original, d);
                Session b = Session.open(fcn, d);
                InferenceResult ra = a.run(x, RunOptions.DEFAULT.withHostAllocator(host));
                InferenceResult rb = b.run(x, RunOptions.DEFAULT.withHostAllocator(host))) {
            Shape out = ra.output().shape();
            assertEquals(Shape.nchw(out.dim(0), out.dim(1), 1, 1), rb.output().shape());
            // [N, classes] and [N, classes, 1, 1] have the same row-major layout.
            double diff = maxRelativeDifference(rb.output().toFloatArray(), ra.output().toFloatArray());
            assertTrue(diff <= TOLERANCE, device + " " + what + ": converted vs original " + diff);
        }
    }

    /**
     * On a larger input the converted network gives a map of predictions, each cell the original
     * network's prediction for the crop at (i * stride, j * stride): all 2 x 7 x 3 crops run as one
     * batch of the original network.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void onALargerInputEveryCellIsTheOriginalOnItsCrop(String device) {
        try (Model original = Model.withRandomParameters(classifier(true), 21);
                Model converted = FullyConvolutional.convert(original);
                Model large = converted.withInput(LARGE);
                Tensor image = Tensor.allocate(LARGE, DType.F32, host, "image").fillUniform(22, -1f, 1f);
                Device d = Backends.system().open(device);
                Session s = Session.open(large, d);
                InferenceResult map = s.run(image, RunOptions.DEFAULT.withHostAllocator(host))) {
            Shape m = map.output().shape();
            int rows = m.h();
            int cols = m.w();
            assertEquals(Shape.nchw(2, CLASSES, 7, 3), m);
            int crops = 2 * rows * cols;
            try (Model batched = original.withInput(INPUT.withBatch(crops));
                    Tensor tiles = Tensor.allocate(batched.inputShape(), DType.F32, host, "crops");
                    Session ref = Session.open(batched, d)) {
                fillCrops(image, tiles, rows, cols);
                try (InferenceResult r = ref.run(tiles, RunOptions.DEFAULT.withHostAllocator(host))) {
                    float[] expected = new float[crops * CLASSES];
                    float[] actual = new float[crops * CLASSES];
                    for (int n = 0; n < 2; n++) {
                        for (int i = 0; i < rows; i++) {
                            for (int j = 0; j < cols; j++) {
                                int crop = (n * rows + i) * cols + j;
                                for (int k = 0; k < CLASSES; k++) {
                                    expected[crop * CLASSES + k] = r.output().get((long) crop * CLASSES + k);
                                    actual[crop * CLASSES + k] = map.output().get(n, k, i, j);
                                }
                            }
                        }
                    }
                    double diff = maxRelativeDifference(actual, expected);
                    assertTrue(diff <= TOLERANCE, device + ": prediction map vs the original on the crops " + diff);
                    assertNotEquals(map.output().get(0, 0, 0, 0), map.output().get(0, 0, rows - 1, cols - 1),
                            "the cells see different crops");
                }
            }
        }
    }

    /** Crop (n, i, j) of the image, at (i * STRIDE, j * STRIDE) and of the original size, goes to batch row (n*rows + i)*cols + j. */
    private static void fillCrops(Tensor image, Tensor tiles, int rows, int cols) {
        Shape t = tiles.shape();
        long at = 0;
        for (int n = 0; n < 2; n++) {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    for (int c = 0; c < t.c(); c++) {
                        for (int h = 0; h < t.h(); h++) {
                            for (int w = 0; w < t.w(); w++) {
                                tiles.set(at++, image.get(n, c, i * STRIDE + h, j * STRIDE + w));
                            }
                        }
                    }
                }
            }
        }
    }

    /** {@code max |a - ref| / max |ref|}, NaN failing. */
    private static double maxRelativeDifference(float[] a, float[] ref) {
        assertEquals(ref.length, a.length);
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < a.length; i++) {
            assertTrue(Float.isFinite(a[i]) && Float.isFinite(ref[i]), "element " + i + ": " + a[i] + " vs " + ref[i]);
            diff = Math.max(diff, Math.abs(a[i] - ref[i]));
            scale = Math.max(scale, Math.abs(ref[i]));
        }
        return diff / scale;
    }

    @Test
    void headsThatAreNotConvertibleAreRejectedNamingTheLayer() {
        rejected(b -> b.add("r", Reshape.to(0, -1), "conv").add("fc", Dense.linear(10, true, Activation.NONE)), "no Flatten layer");
        rejected(b -> b.add("flat", Flatten.axis(2), "conv").add("fc", Dense.linear(10, true, Activation.NONE)),
                "Flatten 'flat'", "axis 2");
        rejected(b -> b.add("flat", Flatten.axis(1), "conv").add("relu", ActivationOp.relu()), "no Dense layer");
        rejected(b -> b.add("flat", Flatten.axis(1), "conv")
                .add("fc", Dense.builder(10).transA(true).transB(true).build(), "flat"), "'fc'", "transA");
        rejected(b -> b.add("flat", Flatten.axis(1), "conv").add("fc", Dense.builder(10).alpha(2f).build()),
                "'fc'", "alpha 2.0");
        rejected(b -> b.add("flat", Flatten.axis(1), "conv").add("fc", Dense.builder(10).bias(Shape.of(2, 10)).build()),
                "'fc'", "2x10", "one row per batch element");
        rejected(b -> b.add("flat", Flatten.axis(1), "conv").add("fc", Dense.linear(10, true, Activation.NONE))
                .add("r", Reshape.to(0, 2, 5)), "'r'", "neither Dense nor element-wise");
        rejected(b -> b.add("flat", Flatten.axis(1), "conv").add("sm", Softmax.of(1))
                .add("fc", Dense.linear(10, true, Activation.NONE)), "'sm'", "before the first Dense");
        rejected(b -> b.add("flat", Flatten.axis(1), "conv").add("fc", Dense.linear(10, true, Activation.NONE))
                .add("sm", Softmax.of(0)), "'sm'", "softmax over the batch");
        rejected(b -> b.add("flat", Flatten.axis(1), "conv").add("fc1", Dense.linear(10, true, Activation.NONE))
                .add("fc2", Dense.linear(10, true, Activation.NONE), "flat").add("sum", Binary.add(), "fc1", "fc2"),
                "'fc2'", "reads [flat]", "only the layer before it ('fc1')");
    }

    /** A conv on a 2x3x8x8 input followed by {@code head} must be rejected with every fragment in the message. */
    private static void rejected(Consumer<Graph.Builder> head, String... fragments) {
        Graph.Builder b = Graph.builder("bad", Shape.nchw(2, 3, 8, 8)).add("conv", Conv2d.builder(4).kernel(3).build());
        head.accept(b);
        Graph g = b.graph();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FullyConvolutional.convert(g));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' missing from: " + e.getMessage());
        }
        assertTrue(e.getMessage().contains("'bad'"), e.getMessage());
    }
}
