package org.convkit.ops.grad;

import java.util.List;

import org.convkit.ops.ActivationOp;
import org.convkit.ops.grad.Gradient.Operand;
import org.convkit.tensor.Shape;

/**
 * The input gradient of a standalone activation, {@code dx = dy * f'(.)}, element-wise. Each kind
 * reads what its derivative needs, the output wherever it suffices (so the input can be freed after
 * the forward pass):
 *
 * <ul>
 *   <li>relu: {@code y > 0 ? dy : 0} (the derivative at 0 is taken as 0, as PyTorch does);</li>
 *   <li>leaky_relu: {@code v < 0 ? alpha * dy : dy}, with v the output when {@code alpha > 0}
 *       (then y and x have the same sign) and the input otherwise;</li>
 *   <li>sigmoid: {@code dy * y * (1 - y)}; tanh: {@code dy * (1 - y * y)};</li>
 *   <li>hard_sigmoid: {@code 0 < y < 1 ? alpha * dy : 0};</li>
 *   <li>clip: {@code min < y < max ? dy : 0} (0 on the bounds themselves).</li>
 * </ul>
 * A NaN in dy propagates wherever the derivative is not 0. FLOPs per element: relu, leaky_relu,
 * hard_sigmoid, clip 2 (compare, select or multiply); sigmoid 3; tanh 3.
 */
public final class ActivationGrad extends GradientOp {
    private final ActivationOp activation;
    private final boolean readsOutput;

    /** The gradient of {@code activation} on an input of this shape. */
    public ActivationGrad(ActivationOp activation, Shape input) {
        super(activation.name() + "_grad", activation, List.of(input),
                List.of(Operand.dy(), readsOutput(activation) ? Operand.output() : Operand.input(0)), input);
        this.activation = activation;
        this.readsOutput = readsOutput(activation);
    }

    private static boolean readsOutput(ActivationOp a) {
        return a.kind() != ActivationOp.Kind.LEAKY_RELU || a.alpha() > 0;
    }

    /** The forward activation. */
    public ActivationOp activation() {
        return activation;
    }

    /** Whether the second operand is the forward output (else the forward input). */
    public boolean readsOutput() {
        return readsOutput;
    }

    @Override
    public long flops(List<Shape> inputs) {
        int perElement = switch (activation.kind()) {
            case SIGMOID, TANH -> 3;
            default -> 2;
        };
        return outputShape(inputs).elementCount() * perElement;
    }
}
