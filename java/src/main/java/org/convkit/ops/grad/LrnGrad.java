package org.convkit.ops.grad;

import java.util.List;

import org.convkit.ops.Lrn;
import org.convkit.ops.grad.Gradient.Operand;
import org.convkit.tensor.Shape;

/**
 * The input gradient of {@link Lrn}, for both of its conventions (the window and the scale are in
 * its geometry): with {@code D[c] = bias + scale * sum_{c' in window(c)} x[c']^2},
 *
 * <pre>
 *   dx[c] = dy[c] * D[c]^-beta - 2 * beta * scale * x[c] * sum_{j : c in window(j)} dy[j] * x[j] * D[j]^(-beta-1)
 * </pre>
 *
 * at every position. Reads dy and x (D is recomputed, so the output need not be kept); each element
 * is one gather (deterministic). FLOPs per element: about {@code 2 * window^2 + 6 * window}.
 */
public final class LrnGrad extends GradientOp {
    private final Lrn.Geometry geometry;

    public LrnGrad(Lrn lrn, Shape input) {
        super("lrn_grad", lrn, List.of(input), List.of(Operand.dy(), Operand.input(0)), input);
        this.geometry = lrn.geometry(input);
    }

    public Lrn.Geometry geometry() {
        return geometry;
    }

    @Override
    public long flops(List<Shape> inputs) {
        long window = geometry.before() + geometry.after() + 1L;
        return outputShape(inputs).elementCount() * (2 * window * window + 6 * window);
    }
}
