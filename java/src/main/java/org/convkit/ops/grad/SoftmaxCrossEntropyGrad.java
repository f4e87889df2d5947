package org.convkit.ops.grad;

import java.util.List;

import org.convkit.ops.Op;
import org.convkit.ops.SoftmaxCrossEntropy;
import org.convkit.tensor.Shape;

/**
 * The gradient of the mean {@link SoftmaxCrossEntropy} loss over its M positions with respect to
 * the logits: {@code dx_rk = (softmax(x_r)_k - [k == label_r]) / M}. Inputs: the logits and the
 * labels (as for the loss); output: the logits' shape. A label that is not an integer in range
 * makes its position's row NaN.
 *
 * <p>The scale {@code 1 / M} is rounded to float once, by {@link #scale(Shape)}, and every device
 * multiplies by that float, so that devices differ only by their exp and division.
 *
 * <p>FLOPs: 6 per logit (max, subtract, exp, add; divide, subtract and scale folded to 2).
 */
public final class SoftmaxCrossEntropyGrad implements Op {
    /** The only instance: the op has no hyper-parameters. */
    public static final SoftmaxCrossEntropyGrad INSTANCE = new SoftmaxCrossEntropyGrad();

    private SoftmaxCrossEntropyGrad() {
    }

    /** {@code 1 / M} as the float every device multiplies by, M being the positions of {@code logits}. */
    public static float scale(Shape logits) {
        SoftmaxCrossEntropy.Geometry g = SoftmaxCrossEntropy.geometry("softmax_cross_entropy_grad", logits,
                SoftmaxCrossEntropy.labelsShape(logits));
        return (float) (1.0 / g.rows());
    }

    @Override
    public String name() {
        return "softmax_cross_entropy_grad";
    }

    @Override
    public int arity() {
        return 2;
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        SoftmaxCrossEntropy.geometry(name(), inputs.get(0), inputs.get(1));
        return inputs.get(0);
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        outputShape(inputs);
        return List.of();
    }

    /** 6 per logit, see the class comment. */
    @Override
    public long flops(List<Shape> inputs) {
        return 6 * outputShape(inputs).elementCount();
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        return name() + "(logits=" + inputs.get(0) + ",labels=" + inputs.get(1) + ")";
    }

    @Override
    public String toString() {
        return name();
    }
}
