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
import org.convkit.ops.Binary;
import org.convkit.ops.ref.BinaryRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * add and mul on every device found, against {@link BinaryRef}, over a sweep of cases: equal
 * shapes of ranks 1..5 (the fast path), and broadcasts of every kind (a trailing vector, a
 * channel scale, a column, both inputs broadcasting in different dimensions, inputs of different
 * ranks, the smaller input first, all-ones shapes), output ranks 1..5, both kinds, with and
 * without ReLU, sizes that are not multiples of the work-group and a few large enough to split
 * across threads and work-groups.
 *
 * <p>Each case goes through {@link OpHarness}: inputs uniform in [-1, 1), the output buffer filled
 * with NaN before the kernel runs, allocators checked afterwards.
 *
 * <p><b>Error metric.</b> For output element i, {@code err_i = |y_i - ref_i| / max(|ref_i|,
 * 2^-126)}, the reference computed in double from the same float inputs. A float32 add or
 * multiply is correctly rounded (IEEE 754; OpenCL requires it for + and *), so a right kernel errs
 * by at most half an ulp, {@code err_i <= 2^-24 ~ 6e-8}; ReLU is exact. The floor 2^-126 (the
 * smallest normal float) allows a device that flushes denormal results to zero. <b>Tolerance:</b>
 * {@code err_i <= 1e-7} for every element, which any wrong index (a different input element)
 * exceeds by orders of magnitude; and every element must be finite.
 */
class BinaryConsistencyTest extends OnEveryDevice {
    static final double TOLERANCE = 1e-7;
    /** Keeps the sweep fast: output elements per random case at most this. */
    private static final long MAX_ELEMENTS = 4_000;

    record Case(Binary op, Shape a, Shape b) {
        List<Shape> inputs() {
            return List.of(a, b);
        }

        boolean sameShape() {
            return op.layout(a, b).sameShape();
        }

        @Override
        public String toString() {
            return op.describe(inputs());
        }
    }


    private static final Binary[] OPS = {Binary.add(), Binary.add(Activation.RELU), Binary.mul(),
        Binary.mul(Activation.RELU)};

    /** The sweep: hand-picked edge cases, then seeded random ones up to 320 cases. */
    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        // ONNX's conformance shapes: test_add / test_mul, test_add_bcast.
        for (Binary op : OPS) {
            out.add(new Case(op, Shape.of(3, 4, 5), Shape.of(3, 4, 5)));
            out.add(new Case(op, Shape.of(3, 4, 5), Shape.of(5)));
        }
        // A ResNet residual and an SE channel scale, scaled down; the scale with the small input first.
        out.add(new Case(Binary.add(Activation.RELU), Shape.nchw(2, 16, 7, 9), Shape.nchw(2, 16, 7, 9)));
        out.add(new Case(Binary.mul(), Shape.nchw(2, 16, 7, 9), Shape.nchw(2, 16, 1, 1)));
        out.add(new Case(Binary.mul(), Shape.nchw(2, 16, 1, 1), Shape.nchw(2, 16, 7, 9)));
        // Per-channel bias-like add, a column, a scalar-like [1], the numpy outer example.
        out.add(new Case(Binary.add(), Shape.nchw(1, 5, 3, 3), Shape.of(5, 1, 1)));
        out.add(new Case(Binary.add(), Shape.of(4, 3, 2), Shape.of(3, 1)));
        out.add(new Case(Binary.mul(), Shape.of(1), Shape.of(2, 3, 4)));
        out.add(new Case(Binary.add(Activation.RELU), Shape.of(2, 3, 4), Shape.of(1)));
        out.add(new Case(Binary.mul(), Shape.of(8, 1, 6, 1), Shape.of(7, 1, 5)));
        out.add(new Case(Binary.add(), Shape.of(1, 3, 1, 5), Shape.of(2, 1, 4, 1)));
        // All-ones shapes, and size-1 dimensions in the middle of equal shapes.
        out.add(new Case(Binary.add(), Shape.of(1), Shape.of(1)));
        out.add(new Case(Binary.mul(), Shape.of(1, 1, 1), Shape.of(1)));
        out.add(new Case(Binary.add(), Shape.of(3, 1, 5), Shape.of(3, 1, 5)));
        // Rank 5 both ways, and a full 8-dimensional broadcast (the kernels' largest rank).
        out.add(new Case(Binary.mul(Activation.RELU), Shape.of(2, 1, 3, 1, 4), Shape.of(5, 1, 2, 1)));
        out.add(new Case(Binary.add(), Shape.of(2, 1, 2, 1, 2, 1, 2, 1), Shape.of(1, 2, 1, 2, 1, 2, 1, 2)));
        // Large enough to use several work-groups and, on the CPU, several work items:
        // one long row (equal shapes), long broadcast rows, and many short rows.
        out.add(new Case(Binary.add(Activation.RELU), Shape.of(40_000), Shape.of(40_000)));
        out.add(new Case(Binary.mul(), Shape.of(3, 20_000), Shape.of(1, 20_000)));
        out.add(new Case(Binary.add(), Shape.of(20_000, 3), Shape.of(20_000, 1)));
        out.add(new Case(Binary.mul(), Shape.nchw(2, 64, 17, 19), Shape.nchw(2, 64, 1, 1)));
        // Rows of 32 or more behind several outer dimensions (OpenCL's row kernel splits the row index).
        out.add(new Case(Binary.add(), Shape.of(2, 3, 40), Shape.of(2, 1, 40)));
        out.add(new Case(Binary.mul(Activation.RELU), Shape.of(4, 1, 3, 1, 33), Shape.of(5, 1, 2, 33)));
        out.add(new Case(Binary.add(Activation.RELU), Shape.of(3, 1, 32), Shape.of(1, 4, 1)));
        out.add(new Case(Binary.mul(), Shape.of(31), Shape.of(2, 3, 1)));
        // A bias over [N, C, H*W] and channel scales behind an outer dimension: rows of 32 or more
        // that one input repeats, in layouts of rank 3.
        out.add(new Case(Binary.add(), Shape.nchw(2, 5, 6, 7), Shape.of(5, 1, 1)));
        out.add(new Case(Binary.mul(), Shape.of(2, 3, 40), Shape.of(1, 3, 1)));
        out.add(new Case(Binary.mul(Activation.RELU), Shape.of(4, 1, 6, 40), Shape.of(3, 1, 1)));
        out.add(new Case(Binary.add(Activation.RELU), Shape.of(3, 1, 1), Shape.nchw(2, 3, 5, 9)));
        // One long row against a single value (a rank-1 layout that is not the fast path).
        out.add(new Case(Binary.mul(), Shape.of(40), Shape.of(1)));
        out.add(new Case(Binary.add(Activation.RELU), Shape.of(1, 1), Shape.of(50)));

        SplittableRandom r = new SplittableRandom(20261201);
        while (out.size() < 320) {
            int rank = 1 + r.nextInt(5);
            int[] dims = new int[rank];
            for (int k = 0; k < rank; k++) {
                dims[k] = 1 + r.nextInt(r.nextInt(4) == 0 ? 12 : 6);
            }
            // A third get a long last dimension that both inputs keep: broadcast rows of 32 to 71.
            boolean longRow = r.nextInt(3) == 0;
            if (longRow) {
                dims[rank - 1] = 32 + r.nextInt(40);
            }
            Shape o = Shape.of(dims);
            if (o.elementCount() > MAX_ELEMENTS) {
                continue;
            }
            Binary op = OPS[r.nextInt(OPS.length)];
            // A quarter equal shapes; otherwise each input drops leading dims and sets dims to 1 at random.
            if (r.nextInt(4) == 0) {
                out.add(new Case(op, o, o));
            } else {
                Shape a = broadcastFrom(dims, longRow, r);
                Shape b = broadcastFrom(dims, longRow, r);
                // Half the long rows are repeated by one input (a channel scale or bias pattern).
                if (longRow && r.nextBoolean()) {
                    if (r.nextBoolean()) {
                        a = lastToOne(a);
                    } else {
                        b = lastToOne(b);
                    }
                }
                out.add(new Case(op, a, b));
            }
        }
        return out;
    }

    /** The shape with its last dimension set to 1. */
    private static Shape lastToOne(Shape s) {
        int[] d = s.dims();
        d[d.length - 1] = 1;
        return Shape.of(d);
    }

    /** An input shape that broadcasts to dims: maybe fewer (leading) dims, some set to 1, the last kept if asked. */
    private static Shape broadcastFrom(int[] dims, boolean keepLast, SplittableRandom r) {
        int drop = r.nextInt(3) == 0 ? r.nextInt(dims.length) : 0;
        int[] d = new int[dims.length - drop];
        for (int k = 0; k < d.length; k++) {
            boolean last = k == d.length - 1;
            d[k] = r.nextInt(3) == 0 && !(last && keepLast) ? 1 : dims[k + drop];
        }
        return Shape.of(d);
    }

    @Test
    void theSweepCoversWhatItClaims() {
        List<Case> cs = cases();
        assertTrue(cs.size() >= 300, "at least 300 cases, got " + cs.size());
        TreeSet<Integer> ranks = new TreeSet<>();
        TreeSet<String> ops = new TreeSet<>();
        int same = 0;
        int aRepeats = 0;
        int bRepeats = 0;
        int both = 0;
        int rankDiffers = 0;
        int big = 0;
        int longRows = 0;
        int longRepeated = 0;
        int longDeep = 0;
        int shortRows = 0;
        for (Case c : cs) {
            Shape out = c.op().outputShape(c.inputs());
            ranks.add(out.rank());
            ops.add(c.op().toString());
            boolean a = c.a().elementCount() < out.elementCount();
            boolean b = c.b().elementCount() < out.elementCount();
            if (c.sameShape()) {
                same++;
            }
            aRepeats += a ? 1 : 0;
            bRepeats += b ? 1 : 0;
            both += a && b ? 1 : 0;
            rankDiffers += c.a().rank() != c.b().rank() ? 1 : 0;
            big += out.elementCount() > 16_384 ? 1 : 0;
            if (!c.sameShape()) {
                Binary.Layout l = c.op().layout(c.a(), c.b());
                int inner = l.rank() - 1;
                // OpenCL takes its row kernel from rows of 32 (ClBinary.ROW_WG / 2), the flat one below.
                if (l.dims()[inner] >= 32) {
                    longRows++;
                    longRepeated += l.aStrides()[inner] == 0 || l.bStrides()[inner] == 0 ? 1 : 0;
                    longDeep += l.rank() > 2 ? 1 : 0;
                } else {
                    shortRows++;
                }
            }
        }
        assertEquals(List.of(1, 2, 3, 4, 5, 8), List.copyOf(ranks), "output ranks");
        assertEquals(List.of("add", "add(relu)", "mul", "mul(relu)"), List.copyOf(ops), "kinds and activations");
        assertTrue(same >= 50 && aRepeats >= 50 && bRepeats >= 50 && both >= 30 && rankDiffers >= 30 && big >= 4
                && longRows >= 20 && longRepeated >= 10 && longDeep >= 10 && shortRows >= 80, String.format(Locale.ROOT,
                        "equal shapes %d, a broadcast %d, b broadcast %d, both %d, ranks differ %d, large %d, "
                        + "broadcast rows >= 32: %d (one input repeating along them: %d, collapsed rank > 2: %d), "
                        + "shorter: %d", same, aRepeats, bRepeats, both, rankDiffers, big, longRows, longRepeated,
                        longDeep, shortRows));
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceMatchesTheReference() {
        List<Case> cs = cases();
        return devices.stream().flatMap(d -> cs.stream().map(c ->
                DynamicTest.dynamicTest(d.name() + " " + c, () -> check(d, c))));
    }

    private static void check(Device device, Case c) {
        OpHarness.check(device, c.op(), c.inputs(), args -> {
            BinaryRef.Result r = BinaryRef.forward(c.op().kind(), c.op().activation(), c.a(), args.get(0), c.b(),
                    args.get(1));
            return new OpHarness.Expected(r.y(), r.scale());
        }, TOLERANCE);
    }
}
