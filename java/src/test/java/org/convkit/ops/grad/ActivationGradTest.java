package org.convkit.ops.grad;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.convkit.ops.ActivationOp;
import org.convkit.ops.PRelu;
import org.convkit.ops.ref.ActivationGradRef;
import org.convkit.ops.ref.PReluGradRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.GradCase;
import org.junit.jupiter.api.Test;

/**
 * The backward pass of every standalone activation and of PReLU: each kind (leaky ReLU with a
 * positive slope, which reads the output, and with zero and negative slopes, which read the input;
 * clip with finite and infinite bounds) on shapes from one element up to several CPU chunks; PReLU
 * with per-channel, shared, trailing-dimension and full-shape slopes (input and slope gradients).
 *
 * <p>Device tolerance 1e-5 of the value (each derivative is one to three float operations on dy:
 * a few units of 2^-24) or, for PReLU's slope gradient, of the sum of |terms|.
 */
class ActivationGradTest extends GradSweep {
    private static final List<ActivationOp> KINDS = List.of(ActivationOp.relu(), ActivationOp.leakyRelu(0.1f),
            ActivationOp.leakyRelu(0f), ActivationOp.leakyRelu(-0.3f), ActivationOp.sigmoid(), ActivationOp.tanh(),
            ActivationOp.hardSigmoid(), ActivationOp.hardSigmoid(0.7f, 0.3f), ActivationOp.clip(-0.5f, 0.25f),
            ActivationOp.clip(Float.NEGATIVE_INFINITY, 0.3f), ActivationOp.clip(-0.2f, Float.POSITIVE_INFINITY));

    @Override
    String family() {
        return "activations";
    }

    static List<GradCase> cases(List<Shape> shapes) {
        List<GradCase> out = new ArrayList<>();
        for (ActivationOp a : KINDS) {
            for (Shape s : shapes) {
                out.add(GradCase.of(a, List.of(s), new ActivationGradRef(a)));
            }
        }
        Shape img = Shape.nchw(2, 5, 3, 4);
        for (PRelu p : List.of(PRelu.perChannel(5), PRelu.shared(), PRelu.of(Shape.of(4)), PRelu.of(Shape.of(3, 1)),
                PRelu.of(Shape.of(2, 5, 3, 4)), PRelu.of(Shape.of(5, 1, 4)))) {
            out.add(GradCase.of(p, List.of(img), new PReluGradRef(p, img)));
        }
        Shape big = Shape.nchw(2, 3, 70, 90);
        for (PRelu p : List.of(PRelu.perChannel(3), PRelu.shared())) {
            out.add(GradCase.of(p, List.of(big), new PReluGradRef(p, big)));
        }
        return out;
    }

    @Override
    List<GradCase> fdCases() {
        return cases(List.of(Shape.of(3, 5), Shape.nchw(1, 2, 3, 4))).stream()
                .filter(c -> c.inputs().get(0).elementCount() <= 200).toList();
    }

    @Override
    List<GradCase> deviceCases() {
        return cases(List.of(Shape.of(3, 5), Shape.nchw(2, 3, 7, 9), Shape.of(3, 17000)));
    }

    @Test
    void reluAndSigmoidReadTheOutputLeakyReluWithoutAPositiveSlopeTheInput() {
        Shape s = Shape.of(4);
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.output()),
                ActivationOp.relu().gradients(List.of(s)).get(0).operands());
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.output()),
                ActivationOp.sigmoid().gradients(List.of(s)).get(0).operands());
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.output()),
                ActivationOp.leakyRelu(0.2f).gradients(List.of(s)).get(0).operands());
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.input(0)),
                ActivationOp.leakyRelu(-0.2f).gradients(List.of(s)).get(0).operands());
        List<Gradient> prelu = PRelu.perChannel(3).gradients(List.of(Shape.nchw(1, 3, 2, 2)));
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.input(0), Gradient.Operand.parameter(0)),
                prelu.get(0).operands());
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.input(0)), prelu.get(1).operands());
    }
}
