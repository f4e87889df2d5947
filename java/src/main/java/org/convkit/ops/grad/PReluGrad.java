package org.convkit.ops.grad;

import java.util.List;

import org.convkit.ops.PRelu;
import org.convkit.ops.grad.Gradient.Operand;
import org.convkit.tensor.Shape;

/**
 * The input gradient of {@link PRelu}: {@code dx = x < 0 ? slope * dy : dy}, element-wise, the
 * slope broadcast as in the forward ({@link PRelu.Broadcast}). Reads dy, x and the slope. (The
 * slope's gradient, {@code sum dy * min(x, 0)} over the broadcast dimensions, is a
 * {@link BroadcastSum}.) FLOPs: 2 per element.
 */
public final class PReluGrad extends GradientOp {
    private final PRelu.Broadcast broadcast;

    public PReluGrad(PRelu prelu, Shape input) {
        super("prelu_grad", prelu, List.of(input), List.of(Operand.dy(), Operand.input(0), Operand.parameter(0)), input);
        this.broadcast = prelu.broadcast(input);
    }

    /** How the slope index follows from an element's index. */
    public PRelu.Broadcast broadcast() {
        return broadcast;
    }

    @Override
    public long flops(List<Shape> inputs) {
        return 2 * outputShape(inputs).elementCount();
    }
}
