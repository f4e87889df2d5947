package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.convkit.ops.Reshape;
import org.convkit.ops.ref.ReshapeRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * reshape on every device found, against {@link ReshapeRef}: input shapes of rank 1 to 6
 * reshaped to targets of rank 1 to 6 drawn from a factorisation of the element count, with
 * explicit sizes, 0 (copy the input's dimension) and -1 (inferred) in every position, plus a
 * tensor larger than one pass of the OpenCL copy's grid. (ONNX's own test data runs in
 * ConformanceTest.)
 *
 * <p>The output shape is checked against the reference's, worked out independently of the
 * descriptor. <b>Tolerance: 0.</b> A reshape moves bits; every element must equal the input's
 * element of the same row-major rank exactly, and the NaN poison must be overwritten everywhere.
 */
class ReshapeConsistencyTest extends OnEveryDevice {
    record Case(Reshape reshape, Shape input) {
        @Override
        public String toString() {
            return reshape.describe(List.of(input));
        }
    }


    /** The sweep: hand-picked cases, then seeded random ones up to 300 cases. */
    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        out.add(new Case(Reshape.to(4, 2, 3), Shape.of(2, 3, 4)));
        out.add(new Case(Reshape.to(0, -1), Shape.nchw(2, 256, 6, 6)));
        out.add(new Case(Reshape.to(-1), Shape.nchw(2, 3, 4, 5)));
        out.add(new Case(Reshape.to(0, 0, -1), Shape.of(2, 3, 4)));
        out.add(new Case(Reshape.to(-1, 0, 0), Shape.of(2, 3, 4)));
        out.add(new Case(Reshape.to(1, 1, 1, 1, 1, 7), Shape.of(7)));
        out.add(new Case(Reshape.to(0, 0, 0, 0), Shape.nchw(1, 2, 3, 4)));
        out.add(new Case(Reshape.to(6, -1, 1), Shape.nchw(2, 3, 300, 300)));
        out.add(new Case(Reshape.to(0, 0, 0, 0, 0, 0), Shape.of(2, 1, 3, 2, 2, 3)));
        out.add(new Case(Reshape.to(3, -1, 1, 2, 2, 0), Shape.of(2, 1, 3, 2, 2, 3)));
        SplittableRandom r = new SplittableRandom(20261204);
        while (out.size() < 300) {
            int rank = 1 + r.nextInt(6);
            int[] d = new int[rank];
            for (int i = 0; i < rank; i++) {
                d[i] = 1 + r.nextInt(rank <= 2 ? 24 : rank <= 4 ? 8 : 4);
            }
            out.add(new Case(Reshape.to(target(d, r)), Shape.of(d)));
        }
        return out;
    }

    /**
     * A random target for input dims {@code d}: often a prefix of the input's dimensions kept
     * (where 0 can stand for them), the rest of the count factorised over the other entries,
     * then 0s where valid and sometimes a -1 in place of one entry.
     */
    private static int[] target(int[] d, SplittableRandom r) {
        int keep = r.nextBoolean() ? r.nextInt(Math.min(d.length, 4) + 1) : 0;
        List<Integer> primes = new ArrayList<>();
        for (int i = keep; i < d.length; i++) {
            for (int p = 2, x = d[i]; x > 1; p++) {
                while (x % p == 0) {
                    primes.add(p);
                    x /= p;
                }
            }
        }
        // At least one entry for the factors, if any, and at most rank 6 in all (some entries stay 1).
        int needed = primes.isEmpty() ? 0 : 1;
        int rank = Math.max(1, keep + needed + r.nextInt(6 - keep - needed + 1));
        int[] t = new int[rank];
        Arrays.fill(t, 1);
        System.arraycopy(d, 0, t, 0, keep);
        for (int p : primes) {
            t[keep + r.nextInt(rank - keep)] *= p;
        }
        for (int i = 0; i < rank; i++) {
            if (i < d.length && t[i] == d[i] && r.nextBoolean()) {
                t[i] = 0;
            }
        }
        if (r.nextBoolean()) {
            t[r.nextInt(rank)] = -1;
        }
        return t;
    }

    @Test
    void theSweepCoversWhatItClaims() {
        List<Case> cs = cases();
        assertTrue(cs.size() >= 300, "at least 300 cases, got " + cs.size());
        boolean[] zeroAt = new boolean[6];
        boolean[] inferredAt = new boolean[6];
        int both = 0;
        int plain = 0;
        for (Case c : cs) {
            int[] t = c.reshape().target();
            boolean z = false;
            boolean m = false;
            for (int i = 0; i < t.length; i++) {
                if (t[i] == 0) {
                    zeroAt[i] = true;
                    z = true;
                }
                if (t[i] == -1) {
                    inferredAt[i] = true;
                    m = true;
                }
            }
            both += z && m ? 1 : 0;
            plain += !z && !m ? 1 : 0;
        }
        for (int i = 0; i < 6; i++) {
            assertTrue(zeroAt[i] && inferredAt[i], String.format(Locale.ROOT, "0 and -1 at index %d: %b, %b", i,
                    zeroAt[i], inferredAt[i]));
        }
        assertTrue(both >= 20 && plain >= 50, "targets with both 0 and -1: " + both + ", with neither: " + plain);
        assertTrue(cs.stream().anyMatch(c -> c.input().elementCount() > 2048L * 256), "a tensor past one copy grid");
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceMatchesTheReference() {
        List<Case> cs = cases();
        return devices.stream().flatMap(d -> cs.stream().map(c ->
                DynamicTest.dynamicTest(d.name() + " " + c, () -> check(d, c))));
    }

    private static void check(Device device, Case c) {
        int[] target = c.reshape().target();
        Shape expected = ReshapeRef.forward(c.input(), target, new float[(int) c.input().elementCount()]).shape();
        assertEquals(expected, c.reshape().outputShape(List.of(c.input())), c + " output shape");
        OpHarness.check(device, c.reshape(), List.of(c.input()), args -> {
            ReshapeRef.Result r = ReshapeRef.forward(c.input(), target, args.get(0));
            return new OpHarness.Expected(r.y(), r.scale());
        }, 0);
    }
}
