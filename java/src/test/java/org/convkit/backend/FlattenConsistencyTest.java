package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.convkit.ops.Flatten;
import org.convkit.ops.ref.FlattenRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * flatten on every device found, against {@link FlattenRef}: input shapes of rank 1 to 6, each at
 * EVERY axis in [-r, r], negative ones included, plus a tensor larger than one pass of the OpenCL
 * copy's grid (so its grid-stride loop runs). (ONNX's own test data runs in ConformanceTest.)
 *
 * <p>The output shape is checked against the reference's, worked out independently of the
 * descriptor. <b>Tolerance: 0.</b> A flatten moves bits; every element must equal the input's
 * element of the same row-major rank exactly (the reference's error scale is 1, so any
 * difference fails), and the NaN poison must be overwritten everywhere.
 */
class FlattenConsistencyTest extends OnEveryDevice {
    record Case(Flatten flatten, Shape input) {
        @Override
        public String toString() {
            return flatten.describe(List.of(input));
        }
    }


    private static void everyAxis(List<Case> out, Shape s) {
        for (int axis = -s.rank(); axis <= s.rank(); axis++) {
            out.add(new Case(Flatten.axis(axis), s));
        }
    }

    /** The sweep: hand-picked shapes, then seeded random ones, each at every axis, up to 300 cases. */
    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        everyAxis(out, Shape.nchw(2, 3, 4, 5));
        everyAxis(out, Shape.of(7));
        everyAxis(out, Shape.nchw(1, 256, 6, 6));
        everyAxis(out, Shape.of(1, 1, 1));
        // More than 2048 work-groups of 256: the copy kernel loops.
        out.add(new Case(Flatten.DEFAULT, Shape.nchw(2, 3, 300, 300)));
        SplittableRandom r = new SplittableRandom(20261203);
        while (out.size() < 300) {
            int rank = 1 + r.nextInt(6);
            int[] d = new int[rank];
            for (int i = 0; i < rank; i++) {
                d[i] = 1 + r.nextInt(rank <= 2 ? 30 : rank <= 4 ? 9 : 4);
            }
            everyAxis(out, Shape.of(d));
        }
        return out;
    }

    @Test
    void theSweepCoversWhatItClaims() {
        List<Case> cs = cases();
        assertTrue(cs.size() >= 300, "at least 300 cases, got " + cs.size());
        TreeSet<Integer> axes = new TreeSet<>();
        TreeSet<Integer> ranks = new TreeSet<>();
        for (Case c : cs) {
            axes.add(c.flatten().axis());
            ranks.add(c.input().rank());
        }
        assertEquals(List.of(1, 2, 3, 4, 5, 6), List.copyOf(ranks), "ranks");
        assertEquals(List.of(-6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6), List.copyOf(axes), "axes");
        assertTrue(cs.stream().anyMatch(c -> c.input().elementCount() > 2048L * 256), "a tensor past one copy grid");
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceMatchesTheReference() {
        List<Case> cs = cases();
        return devices.stream().flatMap(d -> cs.stream().map(c ->
                DynamicTest.dynamicTest(d.name() + " " + c, () -> check(d, c))));
    }

    private static void check(Device device, Case c) {
        Shape expected = FlattenRef.forward(c.input(), c.flatten().axis(), new float[(int) c.input().elementCount()]).shape();
        assertEquals(expected, c.flatten().outputShape(List.of(c.input())), c + " output shape");
        OpHarness.check(device, c.flatten(), List.of(c.input()), args -> {
            FlattenRef.Result r = FlattenRef.forward(c.input(), c.flatten().axis(), args.get(0));
            return new OpHarness.Expected(r.y(), r.scale());
        }, 0);
    }
}
