package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.convkit.ops.ActivationOp;
import org.convkit.ops.Op;
import org.convkit.ops.PRelu;
import org.convkit.ops.ref.ActivationRef;
import org.convkit.ops.ref.PReluRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.convkit.testing.RawRun;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The standalone activations ({@link ActivationOp}: relu, leaky_relu, sigmoid, tanh,
 * hard_sigmoid, clip) and {@link PRelu} on every device found, against {@link ActivationRef} and
 * {@link PReluRef}: every kind with ONNX's default and test parameters and others (negative and
 * large slopes, infinite and equal clip bounds), on tensors of rank 1 to 8, from 1 element to
 * about 50,000, sizes on both sides of the OpenCL work-group (256); PReLU with every ONNX slope
 * form (per channel, shared, the whole shape, trailing dimensions, alternating broadcast up to 8
 * groups).
 *
 * <p>Inputs ({@link #MIXED}): half uniform in [-1, 1), the rest spread over magnitudes from
 * 1e-20 to 1e30 of both signs, exact zeros of both signs, and the op's own break points (clip's
 * bounds, hard_sigmoid's 0 and 1 crossings), so that the saturating regions, the kinks and
 * sigmoid's overflow-prone tails are all exercised. Outputs are poisoned with NaN first
 * ({@link OpHarness}). NaN, infinities and exact special values are checked separately
 * ({@link #specialValuesIncludingNaNAndInfinity()}), since the harness requires finite outputs.
 *
 * <p><b>Error metric.</b> {@code err_i = |y_i - ref_i| / scale_i}, {@code scale_i =
 * max(|ref_i|, 1e-30)} (relative; the floor forgives a device that flushes denormals), and for
 * hard_sigmoid {@code max(|ref_i|, |alpha x_i| + |beta|)}, because {@code alpha x + beta}
 * cancels near its zero crossing. <b>Tolerance:</b> 2e-6 (about 34 float32 ulps): each output
 * is one or two roundings of a single expression plus at most one exp or tanh, which OpenCL
 * allows 3 and 5 ulps; a wrong formula, slope or bound is off by far more.
 */
class ActivationConsistencyTest extends OnEveryDevice {
    static final double TOLERANCE = 2e-6;
    private static final int MAX_ELEMENTS = 50_000;

    record Case(Op op, Shape input) {
        @Override
        public String toString() {
            return op.describe(List.of(input));
        }
    }


    /** The activations with ONNX defaults, ONNX test parameters and harder ones. */
    static List<ActivationOp> activations() {
        float inf = Float.POSITIVE_INFINITY;
        return List.of(ActivationOp.relu(), ActivationOp.leakyRelu(), ActivationOp.leakyRelu(0.1f),
                ActivationOp.leakyRelu(-0.5f), ActivationOp.leakyRelu(3f), ActivationOp.sigmoid(), ActivationOp.tanh(),
                ActivationOp.hardSigmoid(), ActivationOp.hardSigmoid(0.5f, 0.6f), ActivationOp.hardSigmoid(-1.5f, 0.25f),
                ActivationOp.clip(0f, 6f), ActivationOp.clip(-1f, 1f), ActivationOp.clip(-inf, 0.5f),
                ActivationOp.clip(-0.25f, inf), ActivationOp.clip(-inf, inf), ActivationOp.clip(0.3f, 0.3f));
    }

    /** The sweep: hand-picked shapes for every activation, seeded random ones, then PReLU. */
    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        List<Shape> fixed = List.of(Shape.of(1), Shape.of(3, 4, 5), Shape.of(255), Shape.of(256), Shape.of(257),
                Shape.nchw(2, 16, 24, 24), Shape.of(2, 1, 3, 1, 2, 1, 5), Shape.of(7, 1, 1, 1, 1, 1, 1, 3));
        SplittableRandom r = new SplittableRandom(20240601);
        for (ActivationOp op : activations()) {
            for (Shape s : fixed) {
                out.add(new Case(op, s));
            }
            for (int k = 0; k < 8; k++) {
                out.add(new Case(op, randomShape(r, 1 + r.nextInt(5))));
            }
        }
        // PReLU: the ONNX forms by hand.
        addPRelu(out, PRelu.perChannel(16), Shape.nchw(2, 16, 9, 11));
        addPRelu(out, PRelu.perChannel(3), Shape.of(3, 5, 5));
        addPRelu(out, PRelu.perChannel(64), Shape.nchw(1, 64, 1, 1));
        addPRelu(out, PRelu.shared(), Shape.nchw(2, 3, 7, 5));
        addPRelu(out, PRelu.shared(), Shape.of(1));
        addPRelu(out, PRelu.of(Shape.of(5)), Shape.of(3, 4, 5)); // test_prelu_broadcast
        addPRelu(out, PRelu.of(Shape.of(3, 4, 5)), Shape.of(3, 4, 5));
        addPRelu(out, PRelu.of(Shape.of(1, 1, 5)), Shape.of(3, 4, 5));
        addPRelu(out, PRelu.of(Shape.of(1, 8, 1, 1)), Shape.nchw(3, 8, 6, 6));
        addPRelu(out, PRelu.of(Shape.of(8, 1, 6)), Shape.nchw(3, 8, 5, 6));
        addPRelu(out, PRelu.of(Shape.of(2, 1, 2, 1, 2, 1, 2, 1)), Shape.of(2, 2, 2, 2, 2, 2, 2, 2));
        addPRelu(out, PRelu.of(Shape.of(1, 3, 1, 3, 1, 3, 1, 3)), Shape.of(2, 3, 2, 3, 2, 3, 2, 3));
        while (out.size() < 360) {
            Shape in = randomShape(r, 1 + r.nextInt(6));
            int[] d = in.dims();
            int rank = 1 + r.nextInt(d.length);
            int[] s = new int[rank];
            for (int a = 0; a < rank; a++) {
                s[a] = r.nextInt(3) == 0 ? 1 : d[d.length - rank + a];
            }
            addPRelu(out, PRelu.of(Shape.of(s)), in);
        }
        return out;
    }

    private static void addPRelu(List<Case> out, PRelu op, Shape input) {
        op.outputShape(List.of(input));
        out.add(new Case(op, input));
    }

    /** A shape of this rank with dimensions 1 to 40, under {@link #MAX_ELEMENTS} elements. */
    private static Shape randomShape(SplittableRandom r, int rank) {
        int[] d = new int[rank];
        long count = 1;
        for (int a = 0; a < rank; a++) {
            int cap = (int) Math.max(1, Math.min(40, MAX_ELEMENTS / count));
            d[a] = r.nextInt(4) == 0 ? 1 : 1 + r.nextInt(cap);
            count *= d[a];
        }
        return Shape.of(d);
    }

    /** See the class comment; {@code specials} are placed at random positions too. */
    static OpHarness.Filler mixed(float... specials) {
        return (index, t, seed) -> {
            if (index > 0) {
                t.fillUniform(seed + index, -1f, 1f); // PReLU slopes, of both signs
                return;
            }
            SplittableRandom r = new SplittableRandom(seed);
            for (long i = 0; i < t.elementCount(); i++) {
                int kind = r.nextInt(20);
                float sign = r.nextBoolean() ? 1f : -1f;
                float v;
                if (kind < 10) {
                    v = (float) (r.nextDouble() * 2 - 1);
                } else if (kind < 12) {
                    v = sign * (float) Math.pow(10, -20 + 20 * r.nextDouble());
                } else if (kind < 14) {
                    v = sign * (float) (1 + 99 * r.nextDouble());
                } else if (kind < 16) {
                    v = sign * (float) Math.pow(10, 2 + 28 * r.nextDouble());
                } else if (kind == 16) {
                    v = sign * 0f;
                } else if (specials.length > 0) {
                    v = specials[r.nextInt(specials.length)];
                } else {
                    v = (float) (r.nextDouble() * 8 - 4);
                }
                t.set(i, v);
            }
        };
    }

    /** The values where an activation changes regime. */
    static float[] breakPoints(Op op) {
        if (op instanceof ActivationOp a) {
            return switch (a.kind()) {
                case CLIP -> finite(a.alpha(), a.beta(), Math.nextUp(a.alpha()), Math.nextDown(a.beta()));
                case HARD_SIGMOID -> finite(-a.beta() / a.alpha(), (1 - a.beta()) / a.alpha());
                case SIGMOID, TANH -> new float[] {-88.7f, 88.7f, -104f, 104f, 20f, -20f};
                default -> new float[0];
            };
        }
        return new float[0];
    }

    /** The finite ones among {@code vs}. */
    private static float[] finite(float... vs) {
        float[] out = new float[vs.length];
        int n = 0;
        for (float v : vs) {
            if (Float.isFinite(v)) {
                out[n++] = v;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    static OpHarness.Expected reference(Case c, List<float[]> args) {
        return c.op() instanceof PRelu p ? PReluRef.forward(c.input(), p.slopeShape(), args.get(0), args.get(1))
                : ActivationRef.forward((ActivationOp) c.op(), args.get(0));
    }

    @Test
    void theSweepCoversWhatItClaims() {
        List<Case> cs = cases();
        assertTrue(cs.size() >= 300, "at least 300 cases, got " + cs.size());
        Map<ActivationOp.Kind, Integer> perKind = new EnumMap<>(ActivationOp.Kind.class);
        TreeSet<Integer> ranks = new TreeSet<>();
        TreeSet<Integer> preluGroups = new TreeSet<>();
        int prelu = 0;
        int single = 0;
        int aroundGroup = 0;
        for (Case c : cs) {
            ranks.add(c.input().rank());
            long n = c.input().elementCount();
            if (n == 1) {
                single++;
            }
            if (n > 256 && n % 256 != 0) {
                aroundGroup++;
            }
            if (c.op() instanceof ActivationOp a) {
                perKind.merge(a.kind(), 1, Integer::sum);
            } else {
                prelu++;
                preluGroups.add(((PRelu) c.op()).broadcast(c.input()).dims().length);
            }
        }
        for (ActivationOp.Kind k : ActivationOp.Kind.values()) {
            assertTrue(perKind.getOrDefault(k, 0) >= 15, k + ": " + perKind.get(k) + " cases");
        }
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8), List.copyOf(ranks), "ranks");
        assertTrue(prelu >= 100, "prelu cases: " + prelu);
        assertTrue(preluGroups.containsAll(List.of(0, 1, 2, 3, 8)), "prelu broadcast groups " + preluGroups);
        assertTrue(single >= 10 && aroundGroup >= 50,
                String.format(Locale.ROOT, "1-element cases %d, sizes off the work-group %d", single, aroundGroup));
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceMatchesTheReference() {
        List<Case> cs = cases();
        return devices.stream().flatMap(d -> cs.stream().map(c ->
                DynamicTest.dynamicTest(d.name() + " " + c, () -> OpHarness.check(d, c.op(), List.of(c.input()),
                        args -> reference(c, args), TOLERANCE, mixed(breakPoints(c.op()))))));
    }

    /**
     * NaN, infinities, zeros of both signs, the largest floats and values where exp overflows or
     * underflows in float32: NaN must come out as NaN, a reference that is infinite in float32 as
     * the same infinity, anything else within the tolerance. PReLU gets the same values with a negative, a zero and a
     * positive slope.
     */
    @TestFactory
    Stream<DynamicTest> specialValuesIncludingNaNAndInfinity() {
        float[] x = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, Float.MAX_VALUE,
                -Float.MAX_VALUE, 1e30f, -1e30f, 88.7f, -88.7f, 89f, -89f, 104f, -104f, 1e-30f, -1e-30f, 1f, -1f,
                Float.NaN, 2.5f, -2.5f, 6f, -6f};
        List<Op> ops = new ArrayList<>(activations());
        ops.add(PRelu.of(Shape.of(3, 1)));
        Shape shape = Shape.of(3, x.length / 3);
        return devices.stream().flatMap(d -> ops.stream().map(op -> DynamicTest.dynamicTest(d.name() + " "
                + op.describe(List.of(shape)) + " special values", () -> {
                    List<float[]> args = new ArrayList<>();
                    args.add(x);
                    if (op instanceof PRelu) {
                        args.add(new float[] {-0.5f, 0f, 0.25f});
                    }
                    float[] y = RawRun.run(d, op, List.of(shape), args);
                    OpHarness.Expected e = reference(new Case(op, shape), args);
                    for (int i = 0; i < x.length; i++) {
                        double ref = e.y()[i];
                        String where = d.name() + " " + op + " at x = " + x[i] + ": got " + y[i] + ", reference " + ref;
                        if (Double.isNaN(ref)) {
                            assertTrue(Float.isNaN(y[i]), where);
                        } else if (Float.isInfinite((float) ref)) {
                            // Infinite, or beyond float32's range (3 * -MAX_VALUE): the same infinity.
                            assertEquals((float) ref, y[i], where);
                        } else if (!(Math.abs(y[i] - ref) <= TOLERANCE * e.scale()[i])) {
                            fail(where);
                        }
                    }
                    assertTrue(Float.isNaN(y[0]) && Float.isNaN(y[19]), "NaN in, NaN out: " + op);
                })));
    }
}
