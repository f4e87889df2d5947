package org.convkit.ops.grad;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.convkit.ops.Activation;
import org.convkit.ops.Dense;
import org.convkit.ops.ref.DenseGradRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.GradCase;
import org.junit.jupiter.api.Test;

/**
 * The backward pass of dense (ONNX Gemm): input, weight and bias gradients over every combination
 * of transA and transB, alpha and beta other than 1, every bias shape ONNX allows ({@code [1]},
 * {@code [N]}, {@code [1, 1]}, {@code [1, N]}, {@code [M, 1]}, {@code [M, N]}) and none, with and
 * without a fused ReLU, M, K, N from 1 up.
 *
 * <p>Device tolerance: 1e-5 of the sum of |terms| (float32 sums of up to a few hundred terms).
 */
class DenseGradTest extends GradSweep {
    @Override
    String family() {
        return "dense";
    }

    static List<GradCase> cases(int count, int maxDim, long seed) {
        List<GradCase> out = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(seed);
        int i = 0;
        while (out.size() < count) {
            int m = 1 + r.nextInt(maxDim);
            int k = 1 + r.nextInt(maxDim);
            int n = 1 + r.nextInt(maxDim);
            Shape[] biases = {null, Shape.of(1), Shape.of(n), Shape.of(1, 1), Shape.of(1, n), Shape.of(m, 1), Shape.of(m, n)};
            Dense d = Dense.builder(n).transA((i & 1) != 0).transB((i & 2) != 0).bias(biases[i % biases.length])
                    .alpha(i % 3 == 0 ? 1f : 0.75f).beta(i % 5 == 0 ? -1.5f : 1f)
                    .activation((i & 4) != 0 ? Activation.RELU : Activation.NONE).build();
            Shape a = d.transA() ? Shape.of(k, m) : Shape.of(m, k);
            out.add(GradCase.of(d, List.of(a), new DenseGradRef(d.geometry(a))));
            i++;
        }
        return out;
    }

    @Override
    List<GradCase> fdCases() {
        return cases(42, 6, 11);
    }

    @Override
    List<GradCase> deviceCases() {
        List<GradCase> out = cases(84, 40, 12);
        Dense wide = Dense.linear(300, 70, true, Activation.RELU);
        out.add(GradCase.of(wide, List.of(Shape.of(5, 300)), new DenseGradRef(wide.geometry(Shape.of(5, 300)))));
        return out;
    }

    @Test
    void theTermsReadWhatTheyNeed() {
        Dense d = Dense.linear(4, true, Activation.RELU);
        List<Gradient> g = d.gradients(List.of(Shape.of(2, 3)));
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.output(), Gradient.Operand.parameter(0)),
                g.get(0).operands());
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.output(), Gradient.Operand.input(0)),
                g.get(1).operands());
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.output()), g.get(2).operands());
        List<Gradient> plain = Dense.linear(4, true, Activation.NONE).gradients(List.of(Shape.of(2, 3)));
        assertEquals(List.of(Gradient.Operand.dy()), plain.get(2).operands());
    }
}
