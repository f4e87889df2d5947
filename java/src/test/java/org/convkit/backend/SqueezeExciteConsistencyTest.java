package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.convkit.ops.SqueezeExcite;
import org.convkit.ops.ref.SqueezeExciteRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * squeeze_excite on every device found, against {@link SqueezeExciteRef}, over a sweep of cases:
 * channels 1..130 (1, below the ratio, not multiples of 16, and 128 or more), ratios 1, 2, 4, 8,
 * 16 and 32 (hidden sizes from 1 up), spatial sizes 1..15 (1x1 planes, non-square, planes
 * smaller and larger than the 64-wide reduction) plus one 129x131 plane (large enough to be
 * split across work items), batch 1..3.
 *
 * <p>Each case goes through {@link OpHarness}: the input and all four parameters uniform in
 * [-1, 1) (wider than a trained layer's weights, so that sigmoids saturate and ReLUs cut in some
 * cases), the output buffer filled with NaN before the kernels run, the workspace allocated by the
 * harness at the size the op declares, allocators checked afterwards.
 *
 * <p><b>Error metric.</b> For output element i, {@code err_i = |y_i - ref_i| / M_i} where M_i is
 * the magnitude the reference propagates through the four steps ({@link SqueezeExciteRef}: the
 * pooled {@code sum |x| / HW}, through {@code |W1|}, {@code |W2|} and the sigmoid's slope of at
 * most 1/4, times {@code |x_i|}). Each float32 step errs by a small multiple of the unit roundoff
 * (2^-24) times its magnitude, whatever the summation order, while a wrong channel, plane or
 * weight index changes y_i by about a whole term. <b>Tolerance:</b> err_i <= 1e-5 (about 170
 * unit roundoffs, as for conv2d) for every element; and every element must be finite.
 */
class SqueezeExciteConsistencyTest extends OnEveryDevice {
    static final double TOLERANCE = 1e-5;
    private static final int[] RATIOS = {1, 2, 4, 8, 16, 32};

    record Case(SqueezeExcite op, Shape input) {
        SqueezeExcite.Geometry geometry() {
            return op.geometry(input);
        }

        @Override
        public String toString() {
            return op.describe(List.of(input));
        }
    }


    /** The sweep: hand-picked edge cases, then seeded random ones up to 240 cases. */
    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        // One channel; channels below the ratio; ratio 1 (no squeeze); ratio above C.
        out.add(new Case(SqueezeExcite.of(), Shape.nchw(1, 1, 1, 1)));
        out.add(new Case(SqueezeExcite.of(), Shape.nchw(2, 1, 5, 3)));
        out.add(new Case(SqueezeExcite.of(16), Shape.nchw(1, 15, 4, 4)));
        out.add(new Case(SqueezeExcite.of(1), Shape.nchw(1, 9, 3, 3)));
        out.add(new Case(SqueezeExcite.of(32), Shape.nchw(3, 20, 2, 7)));
        // SENet shapes, scaled down in space: C = 128 and 130 at r = 16, planes of 1x1 and 15x15.
        out.add(new Case(SqueezeExcite.of(16), Shape.nchw(1, 128, 15, 15)));
        out.add(new Case(SqueezeExcite.of(16), Shape.nchw(2, 130, 1, 1)));
        out.add(new Case(SqueezeExcite.of(4), Shape.nchw(3, 130, 8, 8)));
        // Planes around the reduction width (64): 63, 64 and 65 elements.
        out.add(new Case(SqueezeExcite.of(2), Shape.nchw(1, 6, 9, 7)));
        out.add(new Case(SqueezeExcite.of(2), Shape.nchw(1, 6, 8, 8)));
        out.add(new Case(SqueezeExcite.of(2), Shape.nchw(1, 6, 5, 13)));
        // Planes large enough for the CPU to split one plane across work items (16,384 elements).
        out.add(new Case(SqueezeExcite.of(2), Shape.nchw(1, 3, 129, 131)));

        SplittableRandom r = new SplittableRandom(20261203);
        while (out.size() < 240) {
            int c = r.nextInt(5) == 0 ? 125 + r.nextInt(6) : 1 + r.nextInt(130);
            int ratio = RATIOS[r.nextInt(RATIOS.length)];
            int h = 1 + r.nextInt(15);
            int w = r.nextInt(3) == 0 ? h : 1 + r.nextInt(15);
            out.add(new Case(SqueezeExcite.of(ratio), Shape.nchw(1 + r.nextInt(3), c, h, w)));
        }
        return out;
    }

    @Test
    void theSweepCoversWhatItClaims() {
        List<Case> cs = cases();
        assertTrue(cs.size() >= 200, "at least 200 cases, got " + cs.size());
        TreeSet<Integer> ratios = new TreeSet<>();
        TreeSet<Integer> batches = new TreeSet<>();
        TreeSet<Integer> spatial = new TreeSet<>();
        int oneChannel = 0;
        int manyChannels = 0;
        int oneHidden = 0;
        int onePixel = 0;
        int nonSquare = 0;
        int widePlanes = 0;
        int hugePlanes = 0;
        for (Case c : cs) {
            SqueezeExcite.Geometry g = c.geometry();
            ratios.add(c.op().ratio());
            batches.add(g.n());
            spatial.add(g.h());
            spatial.add(g.w());
            oneChannel += g.c() == 1 ? 1 : 0;
            manyChannels += g.c() >= 128 ? 1 : 0;
            oneHidden += g.hidden() == 1 ? 1 : 0;
            onePixel += g.plane() == 1 ? 1 : 0;
            nonSquare += g.h() != g.w() ? 1 : 0;
            widePlanes += g.plane() > 64 ? 1 : 0;
            hugePlanes += g.plane() > 16_384 ? 1 : 0;
        }
        assertEquals(List.of(1, 2, 4, 8, 16, 32), List.copyOf(ratios), "ratios");
        assertEquals(List.of(1, 2, 3), List.copyOf(batches), "batches");
        assertTrue(spatial.containsAll(IntStream.rangeClosed(1, 15).boxed().toList()),
                "every spatial size 1..15: " + spatial);
        assertTrue(oneChannel >= 2 && manyChannels >= 20 && oneHidden >= 20 && onePixel >= 2 && nonSquare >= 50
                && widePlanes >= 50 && hugePlanes >= 1, String.format(Locale.ROOT, "C=1 %d, C>=128 %d, hidden=1 %d, "
                        + "1x1 planes %d, non-square %d, planes over 64 %d, over 16384 %d", oneChannel, manyChannels,
                        oneHidden, onePixel, nonSquare, widePlanes, hugePlanes));
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceMatchesTheReference() {
        List<Case> cs = cases();
        return devices.stream().flatMap(d -> cs.stream().map(c ->
                DynamicTest.dynamicTest(d.name() + " " + c, () -> check(d, c))));
    }

    private static void check(Device device, Case c) {
        SqueezeExcite.Geometry g = c.geometry();
        OpHarness.check(device, c.op(), List.of(c.input()), args -> {
            SqueezeExciteRef.Result r = SqueezeExciteRef.forward(g, args.get(0), args.get(1), args.get(2), args.get(3),
                    args.get(4));
            return new OpHarness.Expected(r.y(), r.scale());
        }, TOLERANCE);
    }
}
