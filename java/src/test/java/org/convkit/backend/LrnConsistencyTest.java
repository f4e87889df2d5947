package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.convkit.ops.Lrn;
import org.convkit.ops.ref.LrnRef;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.convkit.testing.RawRun;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * LRN on every device found, against {@link LrnRef}: both conventions, ONNX sizes 1 to 9 (even
 * ones included: their window is asymmetric) and TensorFlow radii 0 to 5 plus radii wider than
 * the channels, 1 to 70 channels, inputs of rank 2 to 5 (ONNX's [N, C, D1, ...]), the AlexNet
 * layers at full size (96x55x55, 256x27x27) with AlexNet's parameters (n 5, alpha 1e-4, beta 0.75,
 * k 2) in both conventions, ZFNet's, and ONNX's test_lrn and test_lrn_default parameters.
 *
 * <p>Inputs are uniform in [-A, A) with A chosen per case so that the normalising term
 * {@code scale * sum x^2} is about as large as {@code bias}: with small alphas and inputs in
 * [-1, 1) it would be a 1e-4 perturbation and a wrong window could pass unnoticed
 * ({@link #aWindowOffByOneChannelFailsByFar()} shows the sweep's data tells the windows apart).
 * Outputs are poisoned with NaN first ({@link OpHarness}).
 *
 * <p><b>Error metric.</b> {@code err_i = |y_i - ref_i| / max(|ref_i|, MIN_NORMAL)}: y is x times
 * a positive factor, so its float32 error is relative to y. The factor's error: the sum of at
 * most W squares (W the clipped window, at most 71 here) errs by W unit roundoffs relative, which
 * the power scales by beta (at most 2 here), and pow itself may err by 16 ulps in OpenCL:
 * about (2W + 20) * 2^-24, 1e-5 at W = 71, typically far less. <b>Tolerance:</b> 1e-5.
 */
class LrnConsistencyTest extends OnEveryDevice {
    static final double TOLERANCE = 1e-5;
    private static final long MAX_ELEMENTS = 300_000;

    /** One case: the op, the input shape and the amplitude of its inputs. */
    record Case(Lrn op, Shape input, float amplitude) {
        @Override
        public String toString() {
            return op.describe(List.of(input));
        }

        OpHarness.Filler filler() {
            return (index, t, seed) -> t.fillUniform(seed, -amplitude, amplitude);
        }
    }


    /**
     * The amplitude A of uniform inputs that makes {@code scale * E[sum of W squares]} =
     * {@code scale * W * A^2 / 3} equal to bias, W the nominal window.
     */
    static float amplitude(Lrn op, int channels) {
        Lrn.Geometry g = op.geometry(Shape.of(1, channels));
        long window = Math.min(op.size(), channels);
        if (g.scale() == 0) {
            return 1f;
        }
        return (float) Math.sqrt(3 * op.bias() / (g.scale() * window));
    }

    private static void add(List<Case> out, Lrn op, Shape input) {
        if (input.elementCount() <= MAX_ELEMENTS) {
            out.add(new Case(op, input, amplitude(op, input.dim(1))));
        }
    }

    /** The sweep: real layers and ONNX's test parameters by hand, then seeded random ones up to 300 cases. */
    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        Lrn alexNet = Lrn.onnx(5, 1e-4f, 0.75f, 2f);
        Lrn alexNetPaper = Lrn.tensorflow(2, 2f, 1e-4f, 0.75f);
        add(out, alexNet, Shape.nchw(1, 96, 55, 55));
        add(out, alexNetPaper, Shape.nchw(1, 96, 55, 55));
        add(out, alexNet, Shape.nchw(1, 256, 27, 27));
        add(out, Lrn.onnx(5, 1e-4f, 0.75f, 1f), Shape.nchw(2, 64, 14, 14)); // bvlc_alexnet / GoogLeNet (Caffe k = 1)
        add(out, Lrn.onnx(5, 5e-4f, 0.75f, 2f), Shape.nchw(1, 96, 27, 27)); // ZFNet
        add(out, Lrn.onnx(3, 2e-4f, 0.5f, 2f), Shape.nchw(5, 5, 5, 5)); // test_lrn
        add(out, Lrn.onnx(3, 1e-4f, 0.75f, 1f), Shape.nchw(5, 5, 5, 5)); // test_lrn_default
        add(out, Lrn.tensorflow(5, 1f, 1f, 0.5f), Shape.nchw(2, 12, 6, 6)); // TensorFlow's defaults
        // Windows wider than the channels, one channel, alpha 0 (y = x / bias^beta), other ranks.
        add(out, Lrn.onnx(9, 0.5f, 0.75f, 1f), Shape.nchw(2, 3, 7, 5));
        add(out, Lrn.tensorflow(100, 1f, 0.01f, 0.75f), Shape.nchw(1, 70, 3, 3));
        add(out, Lrn.onnx(4, 1f, 0.75f, 1f), Shape.nchw(3, 1, 9, 9));
        add(out, Lrn.tensorflow(0, 1f, 1f, 1f), Shape.nchw(1, 8, 4, 4));
        add(out, Lrn.onnx(5, 0f, 0.75f, 2f), Shape.nchw(1, 6, 5, 5));
        add(out, Lrn.onnx(2, 1f, 0.5f, 1f), Shape.of(4, 9));
        add(out, Lrn.onnx(6, 1f, 0.75f, 0.5f), Shape.of(2, 11, 13));
        add(out, Lrn.tensorflow(2, 1f, 0.3f, 0.75f), Shape.of(2, 10, 3, 4, 5));
        // The CPU's tiles of 1024 positions: several with a tail, for the square-root betas and pow.
        add(out, Lrn.onnx(5, 1e-4f, 0.75f, 2f), Shape.nchw(2, 20, 37, 61));
        add(out, Lrn.onnx(3, 0.2f, 2f, 1f), Shape.nchw(1, 12, 33, 35));
        float[] alphas = {1e-4f, 1e-3f, 0.01f, 0.1f, 0.5f, 1f, 2f};
        float[] betas = {0.25f, 0.5f, 0.75f, 1f, 2f};
        float[] biases = {0.5f, 1f, 2f, 3f};
        SplittableRandom r = new SplittableRandom(55);
        while (out.size() < 300) {
            float alpha = alphas[r.nextInt(alphas.length)];
            float beta = betas[r.nextInt(betas.length)];
            float bias = biases[r.nextInt(biases.length)];
            Lrn op = r.nextBoolean() ? Lrn.onnx(1 + r.nextInt(9), alpha, beta, bias)
                    : Lrn.tensorflow(r.nextInt(10) == 0 ? 6 + r.nextInt(60) : r.nextInt(6), bias, alpha, beta);
            int c = r.nextInt(4) == 0 ? 1 + r.nextInt(70) : 1 + r.nextInt(24);
            int n = 1 + r.nextInt(3);
            Shape in = switch (r.nextInt(6)) {
                case 0 -> Shape.of(n, c);
                case 1 -> Shape.of(n, c, 1 + r.nextInt(30));
                case 2 -> Shape.of(n, c, 1 + r.nextInt(5), 1 + r.nextInt(5), 1 + r.nextInt(5));
                default -> Shape.nchw(n, c, 1 + r.nextInt(17), 1 + r.nextInt(17));
            };
            add(out, op, in);
        }
        return out;
    }

    @Test
    void theSweepCoversWhatItClaims() {
        List<Case> cs = cases();
        assertTrue(cs.size() >= 300, "at least 300 cases, got " + cs.size());
        TreeSet<Long> onnxSizes = new TreeSet<>();
        TreeSet<Integer> radii = new TreeSet<>();
        TreeSet<Integer> ranks = new TreeSet<>();
        TreeSet<Float> betas = new TreeSet<>();
        int wide = 0;
        int manyChannels = 0;
        int oneChannel = 0;
        int alexNet = 0;
        for (Case c : cs) {
            Lrn op = c.op();
            if (op.convention() == Lrn.Convention.ONNX) {
                onnxSizes.add(op.size());
            } else {
                radii.add(Math.min(op.depthRadius(), 6));
            }
            ranks.add(c.input().rank());
            betas.add(op.beta());
            int ch = c.input().dim(1);
            if (op.size() > ch) {
                wide++;
            }
            if (ch > 64) {
                manyChannels++;
            }
            if (ch == 1) {
                oneChannel++;
            }
            if (c.input().equals(Shape.nchw(1, 96, 55, 55)) && op.alpha() == 1e-4f && op.beta() == 0.75f
                    && op.bias() == 2f && op.size() == 5) {
                alexNet++;
            }
        }
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L), List.copyOf(onnxSizes), "ONNX sizes");
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6), List.copyOf(radii), "TensorFlow radii (6 = 6 or more)");
        assertEquals(List.of(2, 3, 4, 5), List.copyOf(ranks), "ranks");
        // The kernels' shortcuts (0.5, 0.75, 1) and the general pow (0.25, 2).
        assertEquals(List.of(0.25f, 0.5f, 0.75f, 1f, 2f), List.copyOf(betas), "betas");
        assertEquals(2, alexNet, "AlexNet's first LRN in both conventions");
        assertTrue(wide >= 20 && manyChannels >= 5 && oneChannel >= 5, String.format(Locale.ROOT,
                "windows wider than the channels %d, > 64 channels %d, one channel %d", wide, manyChannels, oneChannel));
    }

    /**
     * The sweep's data tells the windows apart: on every case whose channels let the window
     * matter, a reference with the window one channel narrower (alpha adjusted so that only the
     * window changes; a one-channel window gets alpha doubled instead) differs from the true one by more than 100 times the tolerance somewhere; and alpha divided by the window (ONNX) vs not (TensorFlow) too,
     * wherever the window is wider than one channel (for one channel the two agree).
     */
    @Test
    void aWindowOffByOneChannelFailsByFar() {
        int checked = 0;
        for (Case c : cases()) {
            Lrn op = c.op();
            int ch = c.input().dim(1);
            if (op.alpha() == 0 || ch < 3 || op.size() >= ch) {
                continue;
            }
            float[] x = input(c);
            double[] truth = LrnRef.forward(op, c.input(), x).y();
            Lrn wrong;
            if (op.convention() == Lrn.Convention.ONNX) {
                wrong = op.size() == 1 ? Lrn.tensorflow(0, op.bias(), 2 * op.alpha(), op.beta())
                        : Lrn.onnx((int) op.size() - 1, op.alpha() * (op.size() - 1) / op.size(), op.beta(), op.bias());
            } else {
                wrong = op.depthRadius() == 0 ? Lrn.onnx(1, 2 * op.alpha(), op.beta(), op.bias())
                        : Lrn.tensorflow(op.depthRadius() - 1, op.bias(), op.alpha(), op.beta());
            }
            assertTrue(maxScaledDifference(truth, LrnRef.forward(wrong, c.input(), x).y()) > 100 * TOLERANCE,
                    c + " against " + wrong);
            if (op.convention() == Lrn.Convention.TENSORFLOW && op.size() > 1) {
                Lrn divided = Lrn.onnx((int) op.size(), op.alpha(), op.beta(), op.bias());
                assertTrue(maxScaledDifference(truth, LrnRef.forward(divided, c.input(), x).y()) > 100 * TOLERANCE,
                        c + " against " + divided);
            }
            checked++;
        }
        assertTrue(checked >= 150, "cases checked: " + checked);
    }

    /**
     * The extra channel of an even ONNX window is after c (ONNX: {@code [c - floor((size-1)/2),
     * c + ceil((size-1)/2)]}), by hand-worked values on every device: size 2, alpha 2 (scale 1),
     * bias 1, beta 1, x = {1, 2, 0, 3} over 4 channels. Channel 0 reads {0, 1}: 1 / (1 + 1 + 4) =
     * 1/6; channel 1 reads {1, 2}: 2 / (1 + 4) = 0.4; channel 3 reads {3}: 3 / (1 + 9) = 0.3.
     * The mirrored window would give 1/2 and 1/3 for the first two.
     */
    @Test
    void theEvenOnnxWindowPutsTheExtraChannelAfter() {
        Shape in = Shape.of(1, 4);
        float[] x = {1f, 2f, 0f, 3f};
        Lrn op = Lrn.onnx(2, 2f, 1f, 1f);
        double[] y = LrnRef.forward(op, in, x).y();
        assertEquals(1.0 / 6, y[0], 1e-12);
        assertEquals(0.4, y[1], 1e-12);
        assertEquals(0.3, y[3], 1e-12);
        for (Device d : devices) {
            float[] got = RawRun.run(d, op, List.of(in), List.of(x));
            assertEquals(1f / 6, got[0], 1e-6f, d.name());
            assertEquals(0.4f, got[1], 1e-6f, d.name());
            assertEquals(0f, got[2], 0f, d.name());
            assertEquals(0.3f, got[3], 1e-6f, d.name());
        }
    }

    private static float[] input(Case c) {
        try (Tensor t = Tensor.allocate(c.input())) {
            c.filler().fill(0, t, c.toString().hashCode());
            return t.toFloatArray();
        }
    }

    private static double maxScaledDifference(double[] a, double[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(a[i]), Float.MIN_NORMAL));
        }
        return worst;
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceMatchesTheReference() {
        List<Case> cs = cases();
        return devices.stream().flatMap(d -> cs.stream().map(c -> DynamicTest.dynamicTest(d.name() + " " + c,
                () -> OpHarness.check(d, c.op(), List.of(c.input()), args -> LrnRef.forward(c.op(), c.input(), args.get(0)),
                        TOLERANCE, c.filler()))));
    }

    /**
     * A NaN in channel k at one pixel makes exactly the outputs whose window holds channel k at
     * that pixel NaN (ONNX's definition sums it in); every other output stays finite.
     */
    @TestFactory
    Stream<DynamicTest> aNaNSpreadsExactlyOverTheWindowsThatHoldIt() {
        Shape in = Shape.nchw(1, 9, 2, 3);
        List<Lrn> ops = List.of(Lrn.onnx(4, 1f, 0.75f, 1f), Lrn.tensorflow(1, 1f, 1f, 0.75f));
        return devices.stream().flatMap(d -> ops.stream().map(op -> DynamicTest.dynamicTest(d.name() + " "
                + op.describe(List.of(in)) + " NaN", () -> {
                    float[] x = new float[(int) in.elementCount()];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = 0.1f * (i % 7) - 0.3f;
                    }
                    int k = 4;
                    int pixel = 5;
                    x[k * 6 + pixel] = Float.NaN;
                    float[] y = RawRun.run(d, op, List.of(in), List.of(x));
                    Lrn.Geometry g = op.geometry(in);
                    for (int c = 0; c < 9; c++) {
                        for (int s = 0; s < 6; s++) {
                            boolean inWindow = s == pixel && c - g.before() <= k && k <= c + g.after();
                            float v = y[c * 6 + s];
                            assertEquals(inWindow, Float.isNaN(v), d.name() + " " + op + " channel " + c + " pixel " + s
                                    + ": " + v);
                            assertTrue(Float.isNaN(v) || Float.isFinite(v), "written: " + v);
                        }
                    }
                })));
    }
}
