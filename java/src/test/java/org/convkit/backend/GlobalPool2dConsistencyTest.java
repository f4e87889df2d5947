package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.convkit.ops.GlobalPool2d;
import org.convkit.ops.ref.GlobalPool2dRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * globalavgpool2d and globalmaxpool2d on every device found, against {@link GlobalPool2dRef}:
 * planes from 1x1 to 96x96 (smaller and larger than a work-group, and not multiples of it),
 * batches, channel counts that are not multiples of 16, ResNet-50's 2048x7x7 head. Each case
 * goes through {@link OpHarness} (uniform [-1, 1) input, NaN-poisoned output, allocators checked);
 * a separate test checks that a NaN in a plane makes its result NaN.
 *
 * <p><b>Error metric.</b> {@code err_i = |y_i - ref_i| / (s_i + 1e-30)}, reference in double.
 * Max: {@code s_i = |ref_i|}, <b>tolerance 0</b> (a maximum is one of its inputs). Average:
 * {@code s_i = sum |x| / (h * w)}; a float32 reduction of {@code HW} terms as the OpenCL kernel
 * does it (chains of {@code HW / 64} then a tree of 6 levels) errs by at most
 * {@code (HW / 64 + 7)} unit roundoffs of {@code s_i}: for the largest plane here (96x96) 151 *
 * 2^-24 = 9e-6. <b>Tolerance 1e-5</b>, so planes are capped at 9216 elements; a wrong element
 * changes an average by about {@code s_i / HW}, which the sweep's smaller planes catch.
 */
class GlobalPool2dConsistencyTest extends OnEveryDevice {
    static final double MAX_TOLERANCE = 0;
    static final double AVG_TOLERANCE = 1e-5;
    private static final int MAX_PLANE = 96 * 96;

    record Case(GlobalPool2d op, Shape input) {
        @Override
        public String toString() {
            return op.describe(input);
        }
    }


    static List<Case> cases() {
        List<Shape> shapes = new ArrayList<>(List.of(Shape.nchw(1, 1, 1, 1), Shape.nchw(2, 3, 1, 1),
                Shape.nchw(1, 1, 3, 3), Shape.nchw(1, 3, 5, 5), Shape.nchw(1, 2048, 7, 7), Shape.nchw(2, 17, 13, 11),
                Shape.nchw(1, 1, 8, 8), Shape.nchw(1, 2, 8, 16), Shape.nchw(1, 5, 1, 65), Shape.nchw(1, 2, 96, 96),
                Shape.nchw(3, 31, 19, 23), Shape.nchw(1, 33, 56, 56)));
        SplittableRandom r = new SplittableRandom(20261130);
        int[] channels = {1, 2, 3, 5, 7, 16, 17, 31, 64};
        while (shapes.size() < 50) {
            int h = r.nextInt(5) == 0 ? 1 + r.nextInt(96) : 1 + r.nextInt(24);
            int w = r.nextInt(5) == 0 ? 1 + r.nextInt(96) : 1 + r.nextInt(24);
            shapes.add(Shape.nchw(1 + r.nextInt(3), channels[r.nextInt(channels.length)], h, w));
        }
        List<Case> out = new ArrayList<>();
        for (Shape s : shapes) {
            out.add(new Case(GlobalPool2d.avg(), s));
            out.add(new Case(GlobalPool2d.max(), s));
        }
        return out;
    }

    @Test
    void theSweepCoversWhatItClaims() {
        List<Case> cs = cases();
        assertEquals(100, cs.size());
        int tiny = 0;
        int belowWorkGroup = 0;
        int severalPerItem = 0;
        int oddChannels = 0;
        for (Case c : cs) {
            long hw = (long) c.input().h() * c.input().w();
            assertTrue(hw <= MAX_PLANE, c + " exceeds the plane size the tolerance is argued for");
            if (hw == 1) {
                tiny++;
            } else if (hw < 64) {
                belowWorkGroup++;
            } else if (hw > 128 && hw % 64 != 0) {
                severalPerItem++;
            }
            if (c.input().c() > 16 && c.input().c() % 16 != 0) {
                oddChannels++;
            }
        }
        assertTrue(tiny >= 4 && belowWorkGroup >= 20 && severalPerItem >= 10 && oddChannels >= 10,
                String.format(Locale.ROOT, "1x1 planes %d, planes below 64 %d, planes over 128 not a multiple of 64 %d, "
                        + "channels > 16 not a multiple of 16: %d", tiny, belowWorkGroup, severalPerItem, oddChannels));
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceMatchesTheReference() {
        List<Case> cs = cases();
        return devices.stream().flatMap(d -> cs.stream().map(c ->
                DynamicTest.dynamicTest(d.name() + " " + c, () -> OpHarness.check(d, c.op(), List.of(c.input()), args -> {
                    GlobalPool2dRef.Result r = GlobalPool2dRef.forward(c.op().mode(), c.input(), args.get(0));
                    return new OpHarness.Expected(r.y(), r.scale());
                }, c.op().mode() == GlobalPool2d.Mode.MAX ? MAX_TOLERANCE : AVG_TOLERANCE))));
    }

    @TestFactory
    Stream<DynamicTest> nanInputsPropagate() {
        Shape in = Shape.nchw(2, 3, 11, 13);
        return devices.stream().flatMap(d -> Stream.of(GlobalPool2d.avg(), GlobalPool2d.max()).map(op ->
                DynamicTest.dynamicTest(d.name() + " NaN " + op.describe(in), () -> {
                    float[] x = new float[(int) in.elementCount()];
                    SplittableRandom r = new SplittableRandom(7);
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (float) (r.nextDouble() * 2 - 1);
                    }
                    // One NaN in planes 1 and 4, at different offsets (one of them the last element).
                    x[143 + 77] = Float.NaN;
                    x[4 * 143 + 142] = Float.NaN;
                    float[] y = Pool2dConsistencyTest.run(d, op, in, x);
                    for (int p = 0; p < y.length; p++) {
                        boolean expectNaN = p == 1 || p == 4;
                        assertEquals(expectNaN, Float.isNaN(y[p]), d.name() + " " + op.describe(in) + ": plane " + p
                                + " gave " + y[p]);
                    }
                })));
    }
}
