package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.convkit.ops.BatchNorm;
import org.convkit.ops.ref.BatchNormRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * batchnorm (inference) on every device found, against {@link BatchNormRef}, over a sweep of
 * cases: ranks 2 ([N, C]) to 5, channels 1 to 70, spatial sizes from 1 to past a work-group (so
 * that both OpenCL entries run: whole planes and the flat one for small planes), epsilon 0, 1e-5,
 * 1e-3 and 0.01. (ONNX's own test data runs in ConformanceTest.)
 *
 * <p>Arguments (see {@link #FILLER}): x uniform in [-3, 3); scale in [-1.5, 1.5) (negative scales
 * occur, as in ONNX's tests); B and mean in [-1, 1); var in [0.05, 2), positive so that every
 * case is defined even with epsilon 0. Each case goes through {@link OpHarness}: the output
 * filled with NaN before the kernel runs, allocators checked afterwards.
 *
 * <p><b>Error metric.</b> For output element i of channel c, with
 * {@code f = scale[c] / sqrt(var[c] + epsilon)}:
 * {@code err_i = |y_i - ref_i| / (|f| * (|x_i| + |mean[c]|) + |B[c]|)}. The kernels' float32
 * subtraction, factor (a square root and a division) and multiply-add each err by a few unit
 * roundoffs (2^-24) of one of those terms, while a wrong channel or parameter changes y_i by
 * about the whole scale. <b>Tolerance:</b> err_i <= 1e-5 for every element, every element
 */
class BatchNormConsistencyTest extends OnEveryDevice {
    static final double TOLERANCE = 1e-5;

    /** x in [-3, 3), then scale, B, mean, var as the class comment says. */
    static final OpHarness.Filler FILLER = (i, t, seed) -> {
        long s = seed + 7919L * i;
        switch (i) {
            case 0 -> t.fillUniform(s, -3f, 3f);
            case 1 -> t.fillUniform(s, -1.5f, 1.5f);
            case 2, 3 -> t.fillUniform(s, -1f, 1f);
            default -> t.fillUniform(s, 0.05f, 2f);
        }
    };

    record Case(BatchNorm bn, Shape input) {
        @Override
        public String toString() {
            return bn.describe(input);
        }

        long inner() {
            return input.elementCount() / ((long) input.dim(0) * input.dim(1));
        }
    }


    /** The sweep: hand-picked edge cases, then seeded random ones up to 300 cases. */
    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        BatchNorm def = BatchNorm.create();
        // ONNX's example shape; every rank; one element; a dense layer's output; planes of exactly one work-group.
        out.add(new Case(def, Shape.nchw(2, 3, 4, 5)));
        out.add(new Case(BatchNorm.withEpsilon(0.01f), Shape.nchw(2, 3, 4, 5)));
        out.add(new Case(def, Shape.of(1, 1)));
        out.add(new Case(def, Shape.of(64, 70)));
        out.add(new Case(def, Shape.of(3, 7, 11)));
        out.add(new Case(BatchNorm.withEpsilon(0f), Shape.of(2, 5, 3, 4, 6)));
        out.add(new Case(def, Shape.nchw(1, 2, 16, 16)));
        out.add(new Case(def, Shape.nchw(1, 3, 15, 17)));
        out.add(new Case(def, Shape.nchw(2, 64, 28, 28)));
        out.add(new Case(def, Shape.nchw(1, 70, 1, 1)));
        // More than one CPU work item (16384 elements or more), the second starting mid-row / mid-plane.
        out.add(new Case(def, Shape.of(300, 70)));
        out.add(new Case(def, Shape.of(40, 30, 17)));

        SplittableRandom r = new SplittableRandom(20261202);
        float[] eps = {1e-5f, 1e-5f, 1e-3f, 0.01f, 0f};
        while (out.size() < 300) {
            int rank = 2 + r.nextInt(4);
            int[] d = new int[rank];
            d[0] = 1 + r.nextInt(3);
            d[1] = 1 + r.nextInt(70);
            for (int i = 2; i < rank; i++) {
                // Mostly small planes, sometimes planes of one OpenCL work-group (256) or more.
                boolean large = r.nextInt(4) == 0;
                d[i] = 1 + r.nextInt(rank == 3 ? (large ? 700 : 40) : rank == 4 ? (large ? 30 : 12) : 8);
            }
            out.add(new Case(BatchNorm.withEpsilon(eps[r.nextInt(eps.length)]), Shape.of(d)));
        }
        return out;
    }

    @Test
    void theSweepCoversWhatItClaims() {
        List<Case> cs = cases();
        assertTrue(cs.size() >= 300, "at least 300 cases, got " + cs.size());
        TreeSet<Integer> ranks = new TreeSet<>();
        TreeSet<Float> eps = new TreeSet<>();
        int minC = Integer.MAX_VALUE;
        int maxC = 0;
        int planes = 0;
        int flat = 0;
        for (Case c : cs) {
            ranks.add(c.input().rank());
            eps.add(c.bn().epsilon());
            minC = Math.min(minC, c.input().dim(1));
            maxC = Math.max(maxC, c.input().dim(1));
            if (c.inner() >= 256) {
                planes++;
            } else {
                flat++;
            }
        }
        assertEquals(List.of(2, 3, 4, 5), List.copyOf(ranks), "ranks");
        assertEquals(List.of(0f, 1e-5f, 1e-3f, 0.01f), List.copyOf(eps), "epsilons");
        assertTrue(minC == 1 && maxC == 70 && planes >= 20 && flat >= 100, String.format(Locale.ROOT,
                "channels in [%d, %d], planes of a work-group or more %d, smaller %d", minC, maxC, planes, flat));
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceMatchesTheReference() {
        List<Case> cs = cases();
        return devices.stream().flatMap(d -> cs.stream().map(c ->
                DynamicTest.dynamicTest(d.name() + " " + c, () -> check(d, c))));
    }

    private static void check(Device device, Case c) {
        OpHarness.check(device, c.bn(), List.of(c.input()), args -> {
            BatchNormRef.Result r = BatchNormRef.forward(c.input(), c.bn().epsilon(), args.get(0), args.get(1),
                    args.get(2), args.get(3), args.get(4));
            return new OpHarness.Expected(r.y(), r.magnitude());
        }, TOLERANCE, FILLER);
    }
}
