package org.convkit.ops.grad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.convkit.ops.GlobalPool2d;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.ops.ref.Pool2dGradRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.GradCase;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.Test;

/**
 * The backward pass of max and average pooling and of global pooling: kernels 1..5, strides 1..3,
 * dilations, SAME / SAME_LOWER / VALID / explicit pads, ceil mode (with windows that overhang the
 * padded input), average with and without padding counted in the divisor, overlapping and
 * disjoint windows. Max pooling also on data with many ties (values on a grid of 1/4), where the
 * gradient must go to the first tap holding the maximum (finite differences are not defined at a
 * tie, so those cases are checked on the devices only).
 *
 * <p>Device tolerance: 1e-5 of the sum of |terms| (each input gathers a handful of dy / divisor).
 */
class Pool2dGradTest extends GradSweep {
    /** Values on a grid of 1/4 in [-1, 1]: ties in most windows. */
    private static final OpHarness.Filler TIES = (i, t, seed) -> {
        t.fillUniform(seed + 7919L * i, -1f, 1f);
        for (long k = 0; k < t.elementCount(); k++) {
            t.set(k, Math.round(t.get(k) * 4) / 4f);
        }
    };

    @Override
    String family() {
        return "pooling";
    }

    static List<GradCase> cases(int count, long seed, int maxSize) {
        List<GradCase> out = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(seed);
        while (out.size() < count) {
            boolean max = r.nextBoolean();
            int k1 = 1 + r.nextInt(5);
            int k2 = r.nextInt(3) == 0 ? 1 + r.nextInt(5) : k1;
            Pool2d.Builder b = max ? Pool2d.max(k1, k2) : Pool2d.avg(k1, k2);
            b.stride(1 + r.nextInt(3), 1 + r.nextInt(3));
            if (r.nextInt(4) == 0) {
                b.dilation(1 + r.nextInt(2), 1 + r.nextInt(3));
            }
            Padding p = switch (r.nextInt(4)) {
                case 0 -> Padding.SAME;
                case 1 -> Padding.SAME_LOWER;
                case 2 -> Padding.VALID;
                default -> Padding.explicit(r.nextInt(k1), r.nextInt(k2), r.nextInt(k1), r.nextInt(k2));
            };
            b.padding(p).ceilMode(r.nextInt(3) == 0);
            if (!max && r.nextBoolean()) {
                b.countIncludePad(true);
            }
            Shape in = Shape.nchw(1 + r.nextInt(2), 1 + r.nextInt(4), 1 + r.nextInt(maxSize), 1 + r.nextInt(maxSize));
            Pool2d pool;
            try {
                pool = b.build();
                pool.geometry(in);
            } catch (IllegalArgumentException e) {
                continue;
            }
            out.add(GradCase.of(pool, List.of(in), new Pool2dGradRef(pool.geometry(in))));
        }
        for (GlobalPool2d g : List.of(GlobalPool2d.avg(), GlobalPool2d.max())) {
            for (Shape in : List.of(Shape.nchw(2, 3, 4, 5), Shape.nchw(1, 2, 1, 1), Shape.nchw(1, 3, 7, 1))) {
                out.add(GradCase.of(g, List.of(in), new Pool2dGradRef(Pool2dGrad.of(g, in).geometry())));
            }
        }
        return out;
    }

    @Override
    List<GradCase> fdCases() {
        return cases(60, 3, 9);
    }

    @Override
    List<GradCase> deviceCases() {
        List<GradCase> out = new ArrayList<>(cases(150, 4, 20));
        for (GradCase c : cases(40, 5, 12)) {
            if (c.op() instanceof Pool2d p && p.mode() == Pool2d.Mode.MAX || c.op() == GlobalPool2d.max()) {
                out.add(new GradCase(c.op(), c.inputs(), c.reference(), TIES));
            }
        }
        Shape big = Shape.nchw(2, 3, 30, 40);
        GlobalPool2d gmax = GlobalPool2d.max();
        out.add(new GradCase(gmax, List.of(big), new Pool2dGradRef(Pool2dGrad.of(gmax, big).geometry()), TIES));
        return out;
    }

    @Test
    void theSweepHasCeilModeIncludePadAndTies() {
        List<GradCase> cs = deviceCases();
        assertTrue(cs.stream().filter(c -> c.op() instanceof Pool2d p && p.ceilMode()).count() >= 10, "ceil mode");
        assertTrue(cs.stream().filter(c -> c.op() instanceof Pool2d p && p.countIncludePad()).count() >= 10, "include pad");
        assertTrue(cs.stream().filter(c -> c.filler() == TIES).count() >= 10, "ties");
    }

    @Test
    void maxPoolingReadsInputAndOutputAveragePoolingDyOnly() {
        Shape in = Shape.nchw(1, 1, 4, 4);
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.input(0), Gradient.Operand.output()),
                Pool2d.max(2).build().gradients(List.of(in)).get(0).operands());
        assertEquals(List.of(Gradient.Operand.dy()), Pool2d.avg(2).build().gradients(List.of(in)).get(0).operands());
        assertEquals(List.of(Gradient.Operand.dy()), GlobalPool2d.avg().gradients(List.of(in)).get(0).operands());
    }
}
