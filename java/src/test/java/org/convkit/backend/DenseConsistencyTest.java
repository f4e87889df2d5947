package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.convkit.ops.Activation;
import org.convkit.ops.Dense;
import org.convkit.ops.ref.DenseRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * dense (ONNX Gemm) on every device found, against {@link DenseRef}, over a sweep of cases: all
 * four transA / transB combinations; every bias shape ONNX broadcasts (none, the scalar [1], [N],
 * [1, 1], [1, N], [M, 1], [M, N]); alpha and beta of 1, fractions, negatives and 0; with and
 * without ReLU; M, K and N from 1 to 70 (so both the matrix-vector kernels, M <= 8, and the tiled
 * one, on both sides of every tile edge), plus a few larger layers (K up to 2048, M and N past
 * 128, a [K, N] weight wider than the CPU's 256-column work items). (ONNX's own test data runs in ConformanceTest.)
 *
 * <p>Each sweep case goes through {@link OpHarness}: arguments uniform in [-1, 1), the output
 * filled with NaN before the kernel runs, allocators checked afterwards.
 *
 * <p><b>Error metric.</b> For output element i, {@code err_i = |y_i - ref_i| / (m_i + 1e-30)} where
 * {@code m_i = |alpha| * sum_k |A'[m,k] * B'[k,n]| + |beta * C[m,n]|} (computed by the reference in
 * double). Float32 summation in any order (sequential, tiled, or a tree of partial sums) errs by
 * a small multiple of the unit roundoff (2^-24) times m_i, whereas a wrong index, transpose or
 * broadcast changes y_i by about one term, m_i / K, or by the whole bias. <b>Tolerance:</b>
 * err_i <= 1e-5 (about 170 unit roundoffs) for every element, every element finite. The
 */
class DenseConsistencyTest extends OnEveryDevice {
    static final double TOLERANCE = 1e-5;
    /** The kinds of C, by name: how the sweep labels them and checks their coverage. */
    static final List<String> BIAS_KINDS = List.of("none", "[1]", "[N]", "[1,1]", "[1,N]", "[M,1]", "[M,N]");

    /** {@code biasKind} is one of {@link #BIAS_KINDS}, as asked for (with N = 1, [N] and [1] look alike). */
    record Case(Dense dense, Shape input, String biasKind) {
        Dense.Geometry geometry() {
            return dense.geometry(input);
        }

        @Override
        public String toString() {
            return dense.describe(input);
        }
    }


    private static Shape biasShape(String kind, int m, int n) {
        return switch (kind) {
            case "none" -> null;
            case "[1]" -> Shape.of(1);
            case "[N]" -> Shape.of(n);
            case "[1,1]" -> Shape.of(1, 1);
            case "[1,N]" -> Shape.of(1, n);
            case "[M,1]" -> Shape.of(m, 1);
            case "[M,N]" -> Shape.of(m, n);
            default -> throw new IllegalArgumentException(kind);
        };
    }

    private static void add(List<Case> out, int m, int k, int n, boolean ta, boolean tb, String bias, float alpha,
            float beta, Activation act) {
        Dense d = Dense.builder(n).transA(ta).transB(tb).bias(biasShape(bias, m, n)).alpha(alpha).beta(beta)
                .activation(act).build();
        out.add(new Case(d, ta ? Shape.of(k, m) : Shape.of(m, k), bias));
    }

    /** The sweep: hand-picked edge cases, then seeded random ones up to 320 cases. */
    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        Activation none = Activation.NONE;
        // Every size 1; each transpose combination on a non-square case; each bias kind.
        add(out, 1, 1, 1, false, false, "[1]", 1f, 1f, none);
        for (int t = 0; t < 4; t++) {
            for (String bias : BIAS_KINDS) {
                add(out, 3 + t, 7, 5, (t & 1) != 0, (t & 2) != 0, bias, 1f, 1f, none);
                add(out, 13 + t, 9, 6, (t & 1) != 0, (t & 2) != 0, bias, 0.5f, -2f, Activation.RELU);
            }
        }
        // The ONNX all-attributes case, and alpha 0 (only the bias is left) and beta 0 (the bias ignored).
        add(out, 3, 4, 5, true, true, "[1,N]", 0.25f, 0.35f, none);
        add(out, 9, 5, 11, false, true, "[M,N]", 0f, 1.5f, none);
        add(out, 9, 5, 11, false, false, "[N]", 1f, 0f, none);
        // The boundary between the matrix-vector kernels (M <= 8) and the tiled one, and tile edges.
        for (int m : new int[] {8, 9, 63, 64, 65}) {
            add(out, m, 17, 33, false, true, "[N]", 1f, 1f, none);
            add(out, m, 16, 64, true, false, "[M,1]", 1f, 1f, none);
        }
        add(out, 5, 15, 65, false, false, "none", 1f, 1f, none);
        add(out, 70, 70, 70, true, true, "[M,N]", -1f, 0.5f, Activation.RELU);
        // Larger layers: a long K (a small fc6), a batch past two tiles, every path once.
        add(out, 1, 2048, 70, false, true, "[N]", 1f, 1f, Activation.RELU);
        add(out, 4, 2048, 37, true, false, "[1,N]", 1f, 1f, none);
        add(out, 130, 300, 129, false, true, "[N]", 1f, 1f, none);
        add(out, 67, 1030, 150, true, false, "[M,1]", 0.5f, 2f, none);
        add(out, 200, 64, 300, false, false, "[1,1]", 1f, 1f, Activation.RELU);
        // B stored [K, N] at small M, wider than one CPU work item (256 columns), K and N not multiples of 4.
        add(out, 3, 301, 299, false, false, "[M,N]", 1f, 1f, none);
        add(out, 8, 66, 513, true, false, "[1,N]", 0.5f, 1f, Activation.RELU);

        SplittableRandom r = new SplittableRandom(20261201);
        float[] alphas = {1f, 1f, 0.5f, -2f, 0.25f, 0f};
        float[] betas = {1f, 1f, 0.35f, -1f, 0f};
        while (out.size() < 320) {
            int m = r.nextInt(3) == 0 ? 1 + r.nextInt(8) : 1 + r.nextInt(70);
            int k = 1 + r.nextInt(70);
            int n = 1 + r.nextInt(70);
            String bias = BIAS_KINDS.get(r.nextInt(BIAS_KINDS.size()));
            float alpha = alphas[r.nextInt(alphas.length)];
            float beta = betas[r.nextInt(betas.length)];
            if (alpha == 0 && (bias.equals("none") || beta == 0)) {
                continue; // the output would be all zeros: no case
            }
            add(out, m, k, n, r.nextBoolean(), r.nextBoolean(), bias, alpha, beta,
                    r.nextBoolean() ? Activation.RELU : Activation.NONE);
        }
        return out;
    }

    @Test
    void theSweepCoversWhatItClaims() {
        List<Case> cs = cases();
        assertTrue(cs.size() >= 300, "at least 300 cases, got " + cs.size());
        TreeSet<String> transposes = new TreeSet<>();
        TreeSet<String> biases = new TreeSet<>();
        TreeSet<Float> alphas = new TreeSet<>();
        TreeSet<Float> betas = new TreeSet<>();
        int relu = 0;
        int small = 0;
        int tiled = 0;
        int big = 0;
        int[] min = {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE};
        int[] max = {0, 0, 0};
        for (Case c : cs) {
            Dense.Geometry g = c.geometry();
            transposes.add((g.transA() ? "T" : "N") + (g.transB() ? "T" : "N"));
            biases.add(c.biasKind());
            alphas.add(g.alpha());
            betas.add(g.beta());
            relu += g.activation() == Activation.RELU ? 1 : 0;
            if (g.m() <= 8) {
                small++;
            } else {
                tiled++;
            }
            if (g.k() >= 1024 || g.m() > 128 || g.n() > 128) {
                big++;
            }
            int[] mkn = {g.m(), g.k(), g.n()};
            for (int i = 0; i < 3; i++) {
                min[i] = Math.min(min[i], mkn[i]);
                max[i] = Math.max(max[i], mkn[i]);
            }
        }
        assertEquals(List.of("NN", "NT", "TN", "TT"), List.copyOf(transposes), "transposes");
        assertEquals(new TreeSet<>(BIAS_KINDS), biases, "bias kinds");
        assertTrue(alphas.containsAll(List.of(0f, 0.25f, 0.5f, 1f, -2f)), "alphas " + alphas);
        assertTrue(betas.containsAll(List.of(0f, 0.35f, 1f, -1f)), "betas " + betas);
        assertTrue(relu >= 50 && small >= 50 && tiled >= 50 && big >= 5, String.format(Locale.ROOT,
                "relu %d, matrix-vector %d, tiled %d, large %d", relu, small, tiled, big));
        for (int i = 0; i < 3; i++) {
            assertTrue(min[i] == 1 && max[i] >= 70, "M, K, N range from 1 to at least 70: " + "MKN".charAt(i) + " in ["
                    + min[i] + ", " + max[i] + "]");
        }
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceMatchesTheReference() {
        List<Case> cs = cases();
        return devices.stream().flatMap(d -> cs.stream().map(c ->
                DynamicTest.dynamicTest(d.name() + " " + c, () -> check(d, c))));
    }

    private static void check(Device device, Case c) {
        Dense.Geometry g = c.geometry();
        OpHarness.check(device, c.dense(), List.of(c.input()), args -> {
            DenseRef.Result r = DenseRef.forward(g, args.get(0), args.get(1), g.hasBias() ? args.get(2) : null);
            return new OpHarness.Expected(r.y(), r.magnitude());
        }, TOLERANCE);
    }
}
