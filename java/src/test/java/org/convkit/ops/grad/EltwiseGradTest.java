package org.convkit.ops.grad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.List;

import org.convkit.ops.Activation;
import org.convkit.ops.Binary;
import org.convkit.ops.Flatten;
import org.convkit.ops.Reshape;
import org.convkit.ops.ref.BinaryGradRef;
import org.convkit.ops.ref.CopyGradRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.GradCase;
import org.junit.jupiter.api.Test;

/**
 * The backward pass of add and mul with ONNX broadcasting (equal shapes, scalars, channel scales,
 * trailing dimensions, both operands broadcast, alternating patterns, a fused ReLU) and of flatten
 * and reshape (dy reshaped back: a copy).
 *
 * <p>Device tolerance: 1e-5 of the sum of |terms| (a broadcast operand's gradient sums many).
 */
class EltwiseGradTest extends GradSweep {
    private static final List<List<Shape>> PAIRS = List.of(
            List.of(Shape.of(2, 3, 4, 5), Shape.of(2, 3, 4, 5)),
            List.of(Shape.of(2, 3, 4, 5), Shape.of(1)),
            List.of(Shape.of(1), Shape.of(2, 3, 4, 5)),
            List.of(Shape.of(2, 3, 4, 5), Shape.of(2, 3, 1, 1)),
            List.of(Shape.of(2, 3, 4, 5), Shape.of(5)),
            List.of(Shape.of(2, 3, 4, 5), Shape.of(3, 1, 5)),
            List.of(Shape.of(2, 1, 4, 1), Shape.of(1, 3, 1, 5)),
            List.of(Shape.of(4, 1), Shape.of(3)),
            List.of(Shape.of(3, 40), Shape.of(3, 1)),
            List.of(Shape.of(1, 40), Shape.of(3, 40)),
            List.of(Shape.of(2, 3, 4, 5, 6), Shape.of(3, 1, 5, 1)),
            List.of(Shape.of(2, 64, 9, 9), Shape.of(2, 64, 1, 1)));

    @Override
    String family() {
        return "add, mul, flatten, reshape";
    }

    @Override
    List<GradCase> fdCases() {
        return cases().stream().filter(c -> c.outputShape().elementCount() <= 200).toList();
    }

    @Override
    List<GradCase> deviceCases() {
        return cases();
    }

    static List<GradCase> cases() {
        List<GradCase> out = new ArrayList<>();
        for (List<Shape> p : PAIRS) {
            for (Binary b : List.of(Binary.add(), Binary.add(Activation.RELU), Binary.mul(), Binary.mul(Activation.RELU))) {
                out.add(GradCase.of(b, p, new BinaryGradRef(b, p.get(0), p.get(1))));
            }
        }
        Shape img = Shape.nchw(2, 3, 4, 5);
        for (Flatten f : List.of(Flatten.DEFAULT, Flatten.axis(0), Flatten.axis(4), Flatten.axis(-2))) {
            out.add(GradCase.of(f, List.of(img), new CopyGradRef()));
        }
        for (Reshape r : List.of(Reshape.to(6, -1), Reshape.to(0, 0, 20), Reshape.to(120))) {
            out.add(GradCase.of(r, List.of(img), new CopyGradRef()));
        }
        return out;
    }

    @Test
    void anAddOfEqualShapesHandsDyOnAsACopyABroadcastOneSumsIt() {
        Shape s = Shape.of(2, 3);
        List<Gradient> same = Binary.add().gradients(List.of(s, s));
        assertEquals(Reshape.to(2, 3), same.get(0).op());
        assertEquals(List.of(Gradient.Operand.dy()), same.get(0).operands());
        List<Gradient> bcast = Binary.add().gradients(List.of(s, Shape.of(3)));
        assertSame(Reshape.class, bcast.get(0).op().getClass());
        assertSame(BroadcastSum.class, bcast.get(1).op().getClass());
        List<Gradient> mul = Binary.mul().gradients(List.of(s, Shape.of(3)));
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.input(1)), mul.get(0).operands());
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.input(0)), mul.get(1).operands());
        assertEquals(List.of(Gradient.Operand.dy()), Flatten.DEFAULT.gradients(List.of(Shape.nchw(1, 2, 3, 4))).get(0)
                .operands());
    }
}
