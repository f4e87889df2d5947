package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.convkit.ops.Upsample;
import org.convkit.ops.Upsample.Coordinates;
import org.convkit.ops.Upsample.Mode;
import org.convkit.ops.ref.UpsampleRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * upsample on every device found, against {@link UpsampleRef}, over a sweep of cases: nearest
 * and bilinear with each coordinate transform (asymmetric, half_pixel, align_corners), integer
 * scale factors 1..4, fractional ones that are exact in binary (1.5, 2.25...) and ones that are
 * not (1.1, 2.2, 3.7...), different factors per axis, explicit output sizes, odd sizes, 1x1
 * inputs, channel counts that are not multiples of 16.
 *
 * <p>Each case goes through {@link OpHarness}: inputs uniform in [-1, 1), the output buffer
 * filled with NaN before the kernel runs, allocators checked afterwards.
 *
 * <p><b>Error metric.</b> {@code err_i = |y_i - ref_i| / (m_i + 1e-30)}. Nearest: {@code m_i =
 * |ref_i|} and the <b>tolerance is 0</b>: a copy must be bit-exact, and the source pixel must be
 * the reference's (whose index comes from an exact comparison, independent of the kernels'
 * integer transform). Bilinear: {@code m_i = sum |weight * value|} over the four terms; each
 * weight is rounded once from an exact ratio, then four products and three sums in float32
 * add a few unit roundoffs (2^-24) of m_i, while a wrong neighbour or weight moves y_i by a
 * sizeable fraction of a term. <b>Tolerance</b> 2e-6 (about 34 unit roundoffs); every element must
 * be finite.
 */
class UpsampleConsistencyTest extends OnEveryDevice {
    static final double BILINEAR_TOLERANCE = 2e-6;
    private static final int CASES = 300;
    /** Dyadic fractions (exact in binary) and decimal ones (not). */
    private static final float[] FRACTIONAL = {1.5f, 2.5f, 1.25f, 1.75f, 3.5f, 2.25f, 1.1f, 1.3f, 2.2f, 3.7f, 1.9f};

    record Case(Upsample op, Shape input) {
        Upsample.Geometry geometry() {
            return op.geometry(input);
        }

        @Override
        public String toString() {
            return op.describe(List.of(input));
        }
    }


    private static Upsample.Builder nearest() {
        return Upsample.builder(Mode.NEAREST);
    }

    private static Upsample.Builder bilinear(Coordinates c) {
        return Upsample.builder(Mode.BILINEAR).coordinates(c);
    }

    /** The sweep: hand-picked edge cases, then seeded random ones up to {@link #CASES}. */
    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        // FCN / FPN style 2x, scaled down: 21 classes.
        add(out, nearest().scale(2).build(), 1, 21, 8, 9);
        add(out, bilinear(Coordinates.HALF_PIXEL).scale(2).build(), 1, 21, 8, 9);
        // DeepLab style: an explicit size with align_corners (65 -> 513 at full size).
        add(out, bilinear(Coordinates.ALIGN_CORNERS).size(33, 41).build(), 1, 5, 5, 6);
        // 1x1 inputs: every output is the one pixel; align_corners with length 1 maps to 0.
        add(out, nearest().scale(4).build(), 2, 3, 1, 1);
        add(out, bilinear(Coordinates.HALF_PIXEL).scale(3, 2).build(), 1, 3, 1, 1);
        add(out, bilinear(Coordinates.ALIGN_CORNERS).scale(1).build(), 1, 2, 1, 1);
        add(out, bilinear(Coordinates.ALIGN_CORNERS).size(1, 5).build(), 1, 2, 1, 1);
        // Identity: scale 1, or the input's own size.
        add(out, nearest().scale(1).build(), 1, 3, 7, 5);
        add(out, bilinear(Coordinates.HALF_PIXEL).size(7, 5).build(), 1, 3, 7, 5);
        // Decimal scale factors, where float arithmetic and exact arithmetic can pick different pixels.
        add(out, nearest().scale(1.1f).build(), 1, 2, 20, 30);
        add(out, nearest().scale(2.2f, 3.7f).build(), 1, 2, 10, 9);
        add(out, bilinear(Coordinates.ASYMMETRIC).scale(1.1f).build(), 1, 2, 20, 30);
        add(out, bilinear(Coordinates.ALIGN_CORNERS).scale(1.5f, 2.5f).build(), 1, 2, 7, 5);
        // Sizes whose ratio is not a short fraction (6 -> 10: 5/3).
        add(out, nearest().size(10, 17).build(), 1, 4, 6, 7);
        add(out, bilinear(Coordinates.HALF_PIXEL).size(10, 17).build(), 1, 4, 6, 7);
        // Channels that are not multiples of 16.
        add(out, nearest().scale(3).build(), 1, 31, 5, 4);
        add(out, bilinear(Coordinates.ASYMMETRIC).scale(2, 3).build(), 1, 17, 4, 5);

        SplittableRandom r = new SplittableRandom(20261130);
        while (out.size() < CASES) {
            int h = 1 + r.nextInt(17);
            int w = 1 + r.nextInt(17);
            Upsample.Builder b = switch (r.nextInt(4)) {
                case 0 -> nearest();
                case 1 -> bilinear(Coordinates.ASYMMETRIC);
                case 2 -> bilinear(Coordinates.HALF_PIXEL);
                default -> bilinear(Coordinates.ALIGN_CORNERS);
            };
            switch (r.nextInt(5)) {
                case 0, 1 -> {
                    float s = 1 + r.nextInt(4);
                    b.scale(s, r.nextInt(4) == 0 ? 1 + r.nextInt(4) : s);
                }
                case 2, 3 -> b.scale(FRACTIONAL[r.nextInt(FRACTIONAL.length)],
                        r.nextBoolean() ? FRACTIONAL[r.nextInt(FRACTIONAL.length)] : 1 + r.nextInt(4));
                default -> b.size(h + r.nextInt(3 * h + 4), w + r.nextInt(3 * w + 4));
            }
            int c = new int[] {1, 2, 3, 5, 16, 17, 31}[r.nextInt(7)];
            add(out, b.build(), 1 + r.nextInt(2), c, h, w);
        }
        return out;
    }

    private static void add(List<Case> out, Upsample op, int n, int c, int h, int w) {
        Shape in = Shape.nchw(n, c, h, w);
        if (op.geometry(in).outputShape().elementCount() <= 200_000) {
            out.add(new Case(op, in));
        }
    }

    private static boolean integral(float s) {
        return s == Math.rint(s);
    }

    @Test
    void theSweepCoversWhatItClaims() {
        List<Case> cs = cases();
        assertEquals(CASES, cs.size());
        TreeSet<String> kinds = new TreeSet<>();
        TreeSet<Integer> integerScales = new TreeSet<>();
        int dyadic = 0;
        int decimal = 0;
        int sized = 0;
        int anisotropic = 0;
        int oneByOne = 0;
        int oddChannels = 0;
        for (Case c : cs) {
            Upsample.Geometry g = c.geometry();
            kinds.add(g.mode().id() + (g.mode() == Mode.BILINEAR ? "/" + g.coordinates().id() : ""));
            if (g.sized()) {
                sized++;
            } else {
                for (float s : new float[] {g.scaleH(), g.scaleW()}) {
                    if (integral(s)) {
                        integerScales.add((int) s);
                    } else if (integral(s * 1024)) {
                        dyadic++;
                    } else {
                        decimal++;
                    }
                }
                if (g.scaleH() != g.scaleW()) {
                    anisotropic++;
                }
            }
            if (g.h() == 1 && g.w() == 1) {
                oneByOne++;
            }
            if (g.c() > 16 && g.c() % 16 != 0) {
                oddChannels++;
            }
        }
        assertEquals(List.of("bilinear/align_corners", "bilinear/asymmetric", "bilinear/half_pixel", "nearest"),
                List.copyOf(kinds), "modes and coordinate transforms");
        assertEquals(List.of(1, 2, 3, 4), List.copyOf(integerScales), "integer scale factors");
        assertTrue(dyadic >= 30 && decimal >= 30 && sized >= 30 && anisotropic >= 30 && oneByOne >= 4
                && oddChannels >= 20, String.format(Locale.ROOT, "dyadic fractional scales %d, decimal %d, sized %d, "
                + "anisotropic %d, 1x1 inputs %d, channels > 16 not a multiple of 16: %d", dyadic, decimal, sized,
                anisotropic, oneByOne, oddChannels));
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceMatchesTheReference() {
        List<Case> cs = cases();
        return devices.stream().flatMap(d -> cs.stream().map(c ->
                DynamicTest.dynamicTest(d.name() + " " + c, () -> check(d, c))));
    }

    private static void check(Device device, Case c) {
        Upsample.Geometry g = c.geometry();
        double tolerance = g.mode() == Mode.NEAREST ? 0 : BILINEAR_TOLERANCE;
        OpHarness.check(device, c.op(), List.of(c.input()), args -> {
            UpsampleRef.Result r = UpsampleRef.forward(g, args.get(0));
            return new OpHarness.Expected(r.y(), r.magnitude());
        }, tolerance);
    }
}
