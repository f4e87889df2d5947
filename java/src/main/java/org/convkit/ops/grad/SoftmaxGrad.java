package org.convkit.ops.grad;

import java.util.List;

import org.convkit.ops.Softmax;
import org.convkit.ops.grad.Gradient.Operand;
import org.convkit.tensor.Shape;

/**
 * The input gradient of {@link Softmax}: along the softmax axis,
 * {@code dx = y * (dy - sum(dy * y))}, reading dy and the output y only. Each row's dot product is
 * one sum in a fixed order (deterministic). FLOPs: 4 per element.
 */
public final class SoftmaxGrad extends GradientOp {
    private final Softmax.Geometry geometry;

    public SoftmaxGrad(Softmax softmax, Shape input) {
        super("softmax_grad", softmax, List.of(input), List.of(Operand.dy(), Operand.output()), input);
        this.geometry = softmax.geometry(input);
    }

    /** The input as {@code [outer, length, inner]}. */
    public Softmax.Geometry geometry() {
        return geometry;
    }

    @Override
    public long flops(List<Shape> inputs) {
        return 4 * outputShape(inputs).elementCount();
    }
}
