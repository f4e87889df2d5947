package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.convkit.ops.Concat;
import org.convkit.ops.ref.ConcatRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * concat on every device found, against {@link ConcatRef}, over a sweep of cases: ranks 1..4,
 * every axis of each rank both as a non-negative and as a negative number, 1 to 5 inputs whose
 * sizes along the axis differ (1 included), and a few cases large enough to split across threads
 * and work-groups (one long row on axis 0, many short rows on the last axis).
 *
 * <p>Each case goes through {@link OpHarness}: inputs uniform in [-1, 1), the output buffer filled
 * with NaN before the kernel runs (so an element no copy writes is caught), allocators checked
 * afterwards.
 *
 * <p><b>Error metric.</b> {@code err_i = |y_i - ref_i| / max(|ref_i|, 2^-126)}. <b>Tolerance:
 * 0</b>: concat only copies floats, so a right kernel reproduces every input bit for bit, and any
 * misplaced element is a different value.
 */
class ConcatConsistencyTest extends OnEveryDevice {
    static final double TOLERANCE = 0;
    /** Keeps the sweep fast: output elements per random case at most this. */
    private static final long MAX_ELEMENTS = 6_000;

    record Case(Concat op, List<Shape> inputs) {
        @Override
        public String toString() {
            return op.describe(inputs);
        }
    }


    /** The sweep: hand-picked edge cases, then seeded random ones up to 280 cases. */
    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        // ONNX's conformance shapes: 1-D [2] ++ [2], 2-D [2,2] ++ [2,2], 3-D [2,2,2] ++ [2,2,2] on every axis.
        for (int rank = 1; rank <= 3; rank++) {
            int[] d = new int[rank];
            Arrays.fill(d, 2);
            for (int axis = -rank; axis < rank; axis++) {
                out.add(new Case(Concat.of(axis), List.of(Shape.of(d), Shape.of(d))));
            }
        }
        // A GoogLeNet inception output, scaled down: 4 branches on the channel axis.
        out.add(new Case(Concat.of(1), List.of(Shape.nchw(2, 4, 7, 7), Shape.nchw(2, 8, 7, 7), Shape.nchw(2, 2, 7, 7),
                Shape.nchw(2, 2, 7, 7))));
        // One input (a copy), and inputs of size 1 along the axis.
        out.add(new Case(Concat.of(0), List.of(Shape.of(5))));
        out.add(new Case(Concat.of(-1), List.of(Shape.of(3, 4))));
        out.add(new Case(Concat.of(-1), List.of(Shape.of(3, 1), Shape.of(3, 1), Shape.of(3, 1), Shape.of(3, 1),
                Shape.of(3, 1))));
        out.add(new Case(Concat.of(2), List.of(Shape.of(1, 1, 1), Shape.of(1, 1, 3))));
        // Large: one long row (axis 0), and many short rows (last axis), to split across threads and groups.
        out.add(new Case(Concat.of(0), List.of(Shape.of(40_000), Shape.of(30_001))));
        out.add(new Case(Concat.of(-1), List.of(Shape.of(20_000, 3), Shape.of(20_000, 1), Shape.of(20_000, 2))));
        out.add(new Case(Concat.of(1), List.of(Shape.nchw(1, 40, 30, 30), Shape.nchw(1, 7, 30, 30))));

        SplittableRandom r = new SplittableRandom(20261202);
        while (out.size() < 280) {
            int rank = 1 + r.nextInt(4);
            int axis = r.nextInt(2 * rank) - rank;
            int ax = axis < 0 ? axis + rank : axis;
            int count = 2 + r.nextInt(4);
            int[] base = new int[rank];
            for (int k = 0; k < rank; k++) {
                base[k] = 1 + r.nextInt(7);
            }
            List<Shape> in = new ArrayList<>();
            long total = 0;
            for (int i = 0; i < count; i++) {
                int[] d = base.clone();
                d[ax] = 1 + r.nextInt(6);
                Shape s = Shape.of(d);
                total += s.elementCount();
                in.add(s);
            }
            if (total <= MAX_ELEMENTS) {
                out.add(new Case(Concat.of(axis), in));
            }
        }
        return out;
    }

    @Test
    void theSweepCoversWhatItClaims() {
        List<Case> cs = cases();
        assertTrue(cs.size() >= 250, "at least 250 cases, got " + cs.size());
        TreeSet<String> rankAxis = new TreeSet<>();
        TreeSet<Integer> counts = new TreeSet<>();
        int big = 0;
        int sizeOne = 0;
        int longRows = 0;
        int shortRows = 0;
        for (Case c : cs) {
            int rank = c.inputs().get(0).rank();
            rankAxis.add(rank + ":" + c.op().axis());
            counts.add(c.inputs().size());
            big += c.op().outputShape(c.inputs()).elementCount() > 32_768 ? 1 : 0;
            int ax = c.op().geometry(c.inputs()).axis();
            sizeOne += c.inputs().stream().anyMatch(s -> s.dim(ax) == 1) ? 1 : 0;
            // OpenCL copies rows of 32 or more with its 2-D kernel (ClConcat.ROW_WG / 2), shorter ones flat.
            for (long inner : c.op().geometry(c.inputs()).inners()) {
                if (inner >= 32) {
                    longRows++;
                } else {
                    shortRows++;
                }
            }
        }
        List<String> expected = new ArrayList<>();
        for (int rank = 1; rank <= 4; rank++) {
            for (int axis = -rank; axis < rank; axis++) {
                expected.add(rank + ":" + axis);
            }
        }
        assertEquals(new TreeSet<>(expected), rankAxis, "every axis of ranks 1..4, negative and not");
        assertEquals(List.of(1, 2, 3, 4, 5), List.copyOf(counts), "input counts");
        assertTrue(big >= 3 && sizeOne >= 50 && longRows >= 100 && shortRows >= 100, String.format(Locale.ROOT,
                "large cases %d, cases with an input of size 1 on the axis %d, input rows >= 32: %d, shorter: %d", big,
                sizeOne, longRows, shortRows));
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceMatchesTheReference() {
        List<Case> cs = cases();
        return devices.stream().flatMap(d -> cs.stream().map(c ->
                DynamicTest.dynamicTest(d.name() + " " + c, () -> check(d, c))));
    }

    private static void check(Device device, Case c) {
        int n = c.inputs().size();
        OpHarness.check(device, c.op(), c.inputs(), args -> {
            ConcatRef.Result r = ConcatRef.forward(c.op().axis(), c.inputs(), args.subList(0, n));
            return new OpHarness.Expected(r.y(), r.scale());
        }, TOLERANCE);
    }
}
