package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.convkit.ops.Softmax;
import org.convkit.ops.ref.SoftmaxRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.convkit.testing.RawRun;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Softmax (ONNX opset 13) on every device found, against {@link SoftmaxRef}: every axis of
 * tensors of rank 1 to 4, given positive and negative; axes of length 1 to 4099; rows that are
 * contiguous (last axis) or strided, few or many; the classifier outputs (1000 classes, batch 1
 * and 64) and ONNX's test shapes. Those classes cover the OpenCL variants: a work-group per row
 * (long contiguous rows, or long strided rows that are few) and a work-item per row (short rows,
 * or many strided ones).
 *
 * <p>Inputs: uniform in [-4, 4) (probabilities from about 1e-4 to 1), or the same spread around
 * +10000 or -10000 (ONNX's {@code test_softmax_large_number}: without subtracting the max, exp
 * overflows to infinity and the result is NaN), or peaked rows whose largest element dominates.
 * Outputs poisoned with NaN first ({@link OpHarness}).
 *
 * <p><b>Error metric.</b> {@code err_i = |y_i - ref_i| / max(ref_i, 1e-30)}: every term of the
 * sum is positive, so float32 errors are relative to y itself: x - max is exact or off by half an
 * ulp of a number below 10 (spread 8; around 10000 the two floats are close enough for the
 * subtraction to be exact), exp errs by 3 ulps at most in OpenCL, and a sum of L positive terms by
 * about sqrt(L) ulps typically, L ulps at worst. <b>Tolerance:</b> 1e-5 (about 170 ulps); a row
 * normalised over the wrong axis, or one element missing, is off by a percent or more.
 */
class SoftmaxConsistencyTest extends OnEveryDevice {
    static final double TOLERANCE = 1e-5;
    private static final long MAX_ELEMENTS = 600_000;

    /** How a case's inputs are drawn (see the class comment). */
    enum Data {
        UNIFORM, LARGE_POSITIVE, LARGE_NEGATIVE, PEAKED;

        OpHarness.Filler filler() {
            return (index, t, seed) -> {
                switch (this) {
                    case UNIFORM -> t.fillUniform(seed, -4f, 4f);
                    case LARGE_POSITIVE -> t.fillUniform(seed, 9996f, 10004f);
                    case LARGE_NEGATIVE -> t.fillUniform(seed, -10004f, -9996f);
                    case PEAKED -> {
                        SplittableRandom r = new SplittableRandom(seed);
                        for (long i = 0; i < t.elementCount(); i++) {
                            t.set(i, r.nextInt(50) == 0 ? 12f + 3f * (float) r.nextDouble() : (float) r.nextDouble());
                        }
                    }
                }
            };
        }
    }

    record Case(Softmax op, Shape input, Data data) {
        @Override
        public String toString() {
            return op.describe(List.of(input)) + (data == Data.UNIFORM ? "" : " " + data.name().toLowerCase(Locale.ROOT));
        }

        Softmax.Geometry geometry() {
            return op.geometry(input);
        }
    }


    private static void add(List<Case> out, Softmax op, Shape in, Data data) {
        if (in.elementCount() <= MAX_ELEMENTS) {
            op.outputShape(List.of(in));
            out.add(new Case(op, in, data));
        }
    }

    /** The sweep: ONNX's tests and real layers by hand, every axis of assorted shapes, then random ones up to 320. */
    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        // ONNX node tests' shapes and axes.
        add(out, Softmax.lastAxis(), Shape.of(1, 3), Data.UNIFORM);
        add(out, Softmax.lastAxis(), Shape.of(2, 4), Data.LARGE_POSITIVE);
        for (int axis : new int[] {0, 1, 2, -1}) {
            add(out, Softmax.of(axis), Shape.of(3, 4, 5), Data.UNIFORM);
        }
        // Classifiers: 1000 classes, batch 1 and 64; channel softmax on NCHW (strided, few and many rows).
        add(out, Softmax.lastAxis(), Shape.of(1, 1000), Data.UNIFORM);
        add(out, Softmax.lastAxis(), Shape.of(64, 1000), Data.PEAKED);
        add(out, Softmax.lastAxis(), Shape.of(8, 1000), Data.LARGE_NEGATIVE);
        add(out, Softmax.of(1), Shape.nchw(2, 300, 7, 7), Data.UNIFORM);
        add(out, Softmax.of(1), Shape.nchw(1, 64, 96, 96), Data.UNIFORM);
        add(out, Softmax.of(0), Shape.of(4099), Data.LARGE_POSITIVE);
        add(out, Softmax.of(-1), Shape.of(1), Data.UNIFORM);
        add(out, Softmax.of(1), Shape.of(6, 1, 5), Data.UNIFORM);
        // Every axis, positive and negative, of shapes of rank 1 to 4 with short and long axes.
        List<Shape> shapes = List.of(Shape.of(7), Shape.of(130), Shape.of(3, 9), Shape.of(2, 257), Shape.of(257, 3),
                Shape.of(4, 5, 6), Shape.of(2, 100, 3), Shape.of(2, 3, 4, 5), Shape.of(2, 70, 3, 65), Shape.of(1, 1, 1, 64));
        Data[] data = Data.values();
        int k = 0;
        for (Shape s : shapes) {
            for (int axis = -s.rank(); axis < s.rank(); axis++) {
                add(out, Softmax.of(axis), s, data[k++ % data.length]);
            }
        }
        int[] dims = {1, 2, 3, 5, 7, 13, 33, 64, 100, 129, 1000};
        SplittableRandom r = new SplittableRandom(1013);
        while (out.size() < 320) {
            int rank = 1 + r.nextInt(4);
            int[] d = new int[rank];
            long count = 1;
            for (int a = 0; a < rank; a++) {
                d[a] = dims[r.nextInt(dims.length)];
                count *= d[a];
            }
            if (count > 150_000) {
                continue;
            }
            add(out, Softmax.of(r.nextInt(2 * rank) - rank), Shape.of(d), data[r.nextInt(data.length)]);
        }
        return out;
    }

    @Test
    void theSweepCoversWhatItClaims() {
        List<Case> cs = cases();
        assertTrue(cs.size() >= 300, "at least 300 cases, got " + cs.size());
        Set<String> axes = new HashSet<>();
        int negative = 0;
        int longContiguous = 0;
        int longStridedFew = 0;
        int longStridedMany = 0;
        int shortRows = 0;
        int lengthOne = 0;
        int large = 0;
        for (Case c : cs) {
            Softmax.Geometry g = c.geometry();
            axes.add(c.input().rank() + ":" + g.axis());
            if (c.op().axis() < 0) {
                negative++;
            }
            if (g.length() >= 64) {
                if (g.inner() == 1) {
                    longContiguous++;
                } else if (g.rows() < 8192) {
                    longStridedFew++;
                } else {
                    longStridedMany++;
                }
            } else {
                shortRows++;
            }
            if (g.length() == 1) {
                lengthOne++;
            }
            if (c.data() == Data.LARGE_POSITIVE || c.data() == Data.LARGE_NEGATIVE) {
                large++;
            }
        }
        for (int rank = 1; rank <= 4; rank++) {
            for (int axis = 0; axis < rank; axis++) {
                assertTrue(axes.contains(rank + ":" + axis), "rank " + rank + " axis " + axis);
            }
        }
        assertTrue(negative >= 50 && longContiguous >= 20 && longStridedFew >= 20 && longStridedMany >= 1
                && shortRows >= 50 && lengthOne >= 10 && large >= 50, String.format(Locale.ROOT,
                "negative axes %d, long contiguous %d, long strided few %d, long strided many %d, short %d, length 1 %d, "
                        + "large values %d", negative, longContiguous, longStridedFew, longStridedMany, shortRows,
                lengthOne, large));
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceMatchesTheReference() {
        List<Case> cs = cases();
        return devices.stream().flatMap(d -> cs.stream().map(c -> DynamicTest.dynamicTest(d.name() + " " + c,
                () -> OpHarness.check(d, c.op(), List.of(c.input()),
                        args -> SoftmaxRef.forward(c.input(), c.op().axis(), args.get(0)), TOLERANCE, c.data().filler()))));
    }

    /**
     * ONNX's {@code test_softmax_large_number}: x = [[0, 1, 2, 3], [10000, 10001, 10002, 10003]]
     * gives [0.0320586, 0.08714432, 0.23688284, 0.64391428] in both rows (the values the ONNX
     * operator documentation lists); the reference and every device agree.
     */
    @Test
    void onnxLargeNumberExample() {
        float[] x = {0, 1, 2, 3, 10000, 10001, 10002, 10003};
        double[] onnx = {0.0320586, 0.08714432, 0.23688284, 0.64391428};
        Shape in = Shape.of(2, 4);
        double[] ref = SoftmaxRef.forward(in, -1, x).y();
        for (Device d : devices) {
            float[] y = RawRun.run(d, Softmax.lastAxis(), List.of(in), List.of(x));
            for (int i = 0; i < 8; i++) {
                assertEquals(onnx[i % 4], ref[i], 1e-7, "reference, element " + i);
                assertEquals(onnx[i % 4], y[i], 1e-6, d.name() + " element " + i);
            }
        }
    }

    /** A NaN makes its own row NaN (it enters the sum) and no other, in both OpenCL variants. */
    @TestFactory
    Stream<DynamicTest> aNaNSpoilsItsRowOnly() {
        List<Shape> shapes = List.of(Shape.of(3, 5), Shape.of(3, 200));
        return devices.stream().flatMap(d -> shapes.stream().map(in -> DynamicTest.dynamicTest(d.name() + " "
                + Softmax.lastAxis().describe(List.of(in)) + " NaN", () -> {
                    int len = in.dim(1);
                    float[] x = new float[3 * len];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (i % 11) * 0.25f;
                    }
                    x[len + len / 2] = Float.NaN;
                    float[] y = RawRun.run(d, Softmax.lastAxis(), List.of(in), List.of(x));
                    for (int i = 0; i < y.length; i++) {
                        assertEquals(i / len == 1, Float.isNaN(y[i]), d.name() + " element " + i + ": " + y[i]);
                    }
                })));
    }
}
