package org.convkit.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeSet;

import org.convkit.ops.Op;
import org.convkit.ops.grad.Gradient;
import org.convkit.tensor.Shape;

/**
 * Checks a {@link GradReference}'s backward pass against central finite differences of its own
 * forward pass, in double precision: with the loss {@code L = sum(dy * y)} for a random dy,
 *
 * <pre>
 *   dL/da_j ~= sum_i dy_i (y_i(a_j + h) - y_i(a_j - h)) / (2h),   h = 1e-6 * max(1, |a_j|)
 * </pre>
 *
 * for every element of every argument with a gradient (a seeded sample of them for larger ones).
 * The differences are taken per output element before summing, so that the elements a_j does not
 * reach cancel exactly.
 *
 * <p><b>Error metric.</b> {@code err_j = |fd_j - g_j| / (m_j + floor)}, with {@code m_j} the
 * reference's magnitude of {@code g_j} (the sum of the magnitudes of its terms) and
 * {@code floor = 2^-50 * sum_i |dy_i y_i| / h}, a bound on the rounding error of the finite
 * difference itself (each {@code y_i} is off by at most a few units of 2^-53 of its magnitude, and
 * the difference is divided by 2h). The truncation error of the central difference is
 * {@code O(h^2)}, about 1e-12 relative for the smooth ops here. A wrong term, index, sign or mask
 * moves {@code g_j} by a whole term, i.e. err near 1 / (number of terms).
 *
 * <p>Also checks that the op's {@link Op#gradients} names exactly the arguments the reference
 * differentiates, and that each term's op accepts the shapes of the operands it names and produces
 * the differentiated tensor's shape.
 */
public final class GradCheck {
    /** The relative step. */
    public static final double STEP = 1e-6;

    private GradCheck() {
    }

    /** Checks the case's reference against finite differences; returns the largest error found. */
    public static double check(GradCase c, double tolerance, int samplesPerArgument) {
        GradReference ref = c.reference();
        GradCase.State state = c.state();
        List<double[]> args = state.args64();
        double[] y = ref.forward(args);
        double[] dy = GradCase.State.widen(state.dy());
        List<GradReference.Grad> grads = ref.backward(args, y, dy);
        assertEquals(args.size(), grads.size(), c + ": the reference's gradient count (one per argument)");
        checkTerms(c, grads);
        double dyY = 0;
        for (int i = 0; i < y.length; i++) {
            dyY += Math.abs(dy[i] * y[i]);
        }
        double worst = 0;
        SplittableRandom r = new SplittableRandom(c.seed());
        for (int k = 0; k < args.size(); k++) {
            GradReference.Grad g = grads.get(k);
            if (g == null) {
                continue;
            }
            double[] a = args.get(k);
            assertEquals(a.length, g.value().length, c + ": gradient " + k + " has the argument's element count");
            for (int j : sample(a.length, samplesPerArgument, r)) {
                double orig = a[j];
                double h = STEP * Math.max(1, Math.abs(orig));
                double up = orig + h;
                double down = orig - h;
                a[j] = up;
                double[] yp = ref.forward(args);
                a[j] = down;
                double[] ym = ref.forward(args);
                a[j] = orig;
                double num = 0;
                for (int i = 0; i < y.length; i++) {
                    num += dy[i] * (yp[i] - ym[i]);
                }
                num /= up - down;
                double floor = Math.scalb(dyY, -50) / h;
                double diff = Math.abs(num - g.value()[j]);
                double err = diff == 0 ? 0 : diff / (g.magnitude()[j] + floor);
                if (!(err <= tolerance)) {
                    fail(String.format(Locale.ROOT, "%s: d/d(argument %d)[%d]: finite difference %.12g, reference %.12g "
                            + "(magnitude %.3g), scaled error %.3g > %.0e", c, k, j, num, g.value()[j], g.magnitude()[j],
                            err, tolerance));
                }
                worst = Math.max(worst, err);
            }
        }
        return worst;
    }

    /** The op's gradient terms against the reference: the same arguments, valid operand shapes. */
    private static void checkTerms(GradCase c, List<GradReference.Grad> grads) {
        Op op = c.op();
        List<Shape> shapes = c.argumentShapes();
        TreeSet<Integer> expected = new TreeSet<>();
        for (int k = 0; k < grads.size(); k++) {
            if (grads.get(k) != null) {
                expected.add(k);
            }
        }
        TreeSet<Integer> named = new TreeSet<>();
        for (Gradient g : op.gradients(c.inputs())) {
            int k = argumentIndex(op, g);
            if (!named.add(k)) {
                fail(c + ": two gradient terms for argument " + k);
            }
            Shape out = g.op().outputShape(operandShapes(c, g));
            assertEquals(shapes.get(k), out, c + ": term " + g.op().name() + " produces argument " + k + "'s shape");
        }
        assertEquals(expected, named, c + ": arguments with a gradient (inputs, then parameters)");
    }

    /** The argument index (inputs, then parameters) a term differentiates. */
    public static int argumentIndex(Op op, Gradient g) {
        return g.wrt() == Gradient.Wrt.INPUT ? g.index() : op.arity() + g.index();
    }

    /** The shapes of the forward tensors a term reads, in its order. */
    public static List<Shape> operandShapes(GradCase c, Gradient g) {
        List<Shape> params = c.op().parameterShapes(c.inputs());
        List<Shape> out = new ArrayList<>();
        for (Gradient.Operand o : g.operands()) {
            out.add(switch (o.kind()) {
                case OUTPUT_GRADIENT, OUTPUT -> c.outputShape();
                case INPUT -> c.inputs().get(o.index());
                case PARAMETER -> params.get(o.index());
            });
        }
        return out;
    }

    /** All of {@code 0..n-1} when {@code n <= k}, else the first, the last and k - 2 others drawn from {@code r}. */
    static int[] sample(int n, int k, SplittableRandom r) {
        if (n <= k) {
            int[] all = new int[n];
            for (int i = 0; i < n; i++) {
                all[i] = i;
            }
            return all;
        }
        TreeSet<Integer> picked = new TreeSet<>(List.of(0, n - 1));
        while (picked.size() < k) {
            picked.add(r.nextInt(n));
        }
        return picked.stream().mapToInt(Integer::intValue).toArray();
    }
}
