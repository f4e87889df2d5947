package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.convkit.ops.SoftmaxCrossEntropy;
import org.convkit.ops.grad.SoftmaxCrossEntropyGrad;
import org.convkit.ops.ref.SoftmaxCrossEntropyRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.convkit.testing.RawRun;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The softmax cross-entropy loss and its gradient on every device found, against
 * {@link SoftmaxCrossEntropyRef}: classifiers ({@code [N, K]}, K from 2 to 1000, batch 1 to 64),
 * one label per pixel ({@code [N, K, H, W]}, the seed network's head among them: 400 classes on
 * 25x38), and rank 3. Logits uniform in [-4, 4), spread around +-10000 (where the max must be
 * subtracted), or peaked rows whose label often wins; labels random valid classes. Outputs
 * poisoned with NaN first ({@link OpHarness}).
 *
 * <p><b>Error metric and tolerance</b> (see {@link SoftmaxCrossEntropyRef} for the scales): 1e-5.
 * exp and log err by 3 ulps at most in OpenCL, and a float sum of K positive terms by about
 * sqrt(K) ulps (K ulps at worst: 6e-5 of the sum for K = 1000, 1e-5 after the log); a wrong class,
 * a missed max or a wrong stride changes a loss by a whole logit. The right/wrong flags must be
 * exact: every device compares the same floats.
 */
class SoftmaxCrossEntropyConsistencyTest extends OnEveryDevice {
    static final double TOLERANCE = 1e-5;

    /** How a case's logits are drawn. */
    enum Data {
        UNIFORM, LARGE_POSITIVE, LARGE_NEGATIVE, PEAKED
    }

    record Case(Shape logits, Data data) {
        Shape labels() {
            return SoftmaxCrossEntropy.labelsShape(logits);
        }

        List<Shape> inputs() {
            return List.of(logits, labels());
        }

        int classes() {
            return logits.dim(1);
        }

        @Override
        public String toString() {
            return "logits=" + logits + (data == Data.UNIFORM ? "" : " " + data.name().toLowerCase(Locale.ROOT));
        }

        /** Logits as {@link #data} says; labels valid classes (argument 1). */
        OpHarness.Filler filler() {
            return (index, t, seed) -> {
                SplittableRandom r = new SplittableRandom(seed);
                if (index == 1) {
                    for (long i = 0; i < t.elementCount(); i++) {
                        t.set(i, r.nextInt(classes()));
                    }
                    return;
                }
                switch (data) {
                    case UNIFORM -> t.fillUniform(seed, -4f, 4f);
                    case LARGE_POSITIVE -> t.fillUniform(seed, 9996f, 10004f);
                    case LARGE_NEGATIVE -> t.fillUniform(seed, -10004f, -9996f);
                    case PEAKED -> {
                        for (long i = 0; i < t.elementCount(); i++) {
                            t.set(i, r.nextInt(4) == 0 ? 6f + 2f * (float) r.nextDouble() : (float) r.nextDouble());
                        }
                    }
                }
            };
        }
    }

    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        Data[] data = Data.values();
        List<Shape> shapes = List.of(Shape.of(1, 2), Shape.of(3, 10), Shape.of(64, 10), Shape.of(7, 1000), Shape.of(65, 3),
                Shape.of(2, 999), Shape.nchw(2, 3, 4, 5), Shape.nchw(2, 21, 7, 9), Shape.nchw(1, 400, 25, 38),
                Shape.nchw(3, 5, 1, 1), Shape.of(4, 6, 7), Shape.nchw(1, 2, 1, 130));
        int k = 0;
        for (Shape s : shapes) {
            out.add(new Case(s, data[k++ % data.length]));
            out.add(new Case(s, data[k++ % data.length]));
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> lossOnEveryDevice() {
        return devices.stream().flatMap(d -> cases().stream().map(c -> DynamicTest.dynamicTest(d.name() + " "
                + SoftmaxCrossEntropy.INSTANCE.describe(c.inputs()) + " " + c.data().name().toLowerCase(Locale.ROOT),
                () -> OpHarness.check(d, SoftmaxCrossEntropy.INSTANCE, c.inputs(),
                        args -> SoftmaxCrossEntropyRef.forward(c.logits(), args.get(0), args.get(1)), TOLERANCE,
                        c.filler()))));
    }

    @TestFactory
    Stream<DynamicTest> gradientOnEveryDevice() {
        return devices.stream().flatMap(d -> cases().stream().map(c -> DynamicTest.dynamicTest(d.name() + " "
                + SoftmaxCrossEntropyGrad.INSTANCE.describe(c.inputs()) + " " + c.data().name().toLowerCase(Locale.ROOT),
                () -> OpHarness.check(d, SoftmaxCrossEntropyGrad.INSTANCE, c.inputs(),
                        args -> SoftmaxCrossEntropyRef.gradient(c.logits(), args.get(0), args.get(1),
                                SoftmaxCrossEntropyGrad.scale(c.logits())), TOLERANCE, c.filler()))));
    }

    @Test
    void theSweepCoversClassifiersPixelsLargeLogitsAndTheSeedHead() {
        List<Case> cs = cases();
        assertTrue(cs.stream().anyMatch(c -> c.logits().rank() == 2 && c.classes() == 1000));
        assertTrue(cs.stream().anyMatch(c -> c.logits().rank() == 4 && c.logits().dim(2) * c.logits().dim(3) > 1));
        assertTrue(cs.stream().anyMatch(c -> c.logits().equals(Shape.nchw(1, 400, 25, 38))));
        for (Data d : Data.values()) {
            assertTrue(cs.stream().anyMatch(c -> c.data() == d), d.name());
        }
    }

    /** Labels that are not classes (negative, K, fractional, NaN) and a NaN logit give NaN, never a number. */
    @Test
    void invalidLabelsAndNaNLogitsGiveNaN() {
        Shape logits = Shape.of(5, 3);
        List<Shape> in = List.of(logits, Shape.of(5));
        float[] x = {1, 2, 3, 0.5f, -1, 2, 3, 2, 1, 0, 0, 1, Float.NaN, 1, 2};
        float[] labels = {-1, 3, 1.5f, Float.NaN, 0};
        for (Device d : devices) {
            float[] loss = RawRun.run(d, SoftmaxCrossEntropy.INSTANCE, in, List.of(x, labels));
            float[] grad = RawRun.run(d, SoftmaxCrossEntropyGrad.INSTANCE, in, List.of(x, labels));
            for (int r = 0; r < 5; r++) {
                assertTrue(Float.isNaN(loss[r]), d.name() + " loss of row " + r + ": " + loss[r]);
                assertEquals(0f, loss[5 + r], d.name() + " right/wrong of row " + r);
                for (int k = 0; k < 3; k++) {
                    assertTrue(Float.isNaN(grad[r * 3 + k]), d.name() + " gradient " + r + "," + k + ": " + grad[r * 3 + k]);
                }
            }
        }
    }
}
