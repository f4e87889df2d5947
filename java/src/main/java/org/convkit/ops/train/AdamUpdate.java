package org.convkit.ops.train;

import java.util.List;

import org.convkit.ops.Op;
import org.convkit.tensor.Shape;

/**
 * One step of Adam (Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015,
 * Algorithm 1) on one parameter tensor, in place:
 * <pre>
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g * g
 *   w -= lr * (m * c1) / (sqrt(v * c2) + epsilon),   c1 = 1 / (1 - beta1^t), c2 = 1 / (1 - beta2^t)
 * </pre>
 * with lr, c1 and c2 read from the {@link StepScalars} (they change with the step number t).
 *
 * <p>Inputs: the gradient (only read), the first moment m and the second moment v (both
 * updated), the step scalars; the output is the parameter, read and written. FLOPs: 13 per
 * element.
 */
public final class AdamUpdate implements Op {
    private final float beta1;
    private final float beta2;
    private final float epsilon;

    private AdamUpdate(float beta1, float beta2, float epsilon) {
        if (!(beta1 >= 0f && beta1 < 1f) || !(beta2 >= 0f && beta2 < 1f)) {
            throw new IllegalArgumentException("adam_update: beta1 and beta2 must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(epsilon > 0f) || Float.isInfinite(epsilon)) {
            throw new IllegalArgumentException("adam_update: epsilon must be positive and finite, got " + epsilon);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
    }

    /** Adam with the paper's defaults: beta1 0.9, beta2 0.999, epsilon 1e-8. */
    public static AdamUpdate defaults() {
        return new AdamUpdate(0.9f, 0.999f, 1e-8f);
    }

    /** Adam with these decay rates and epsilon. */
    public static AdamUpdate of(float beta1, float beta2, float epsilon) {
        return new AdamUpdate(beta1, beta2, epsilon);
    }

    public float beta1() {
        return beta1;
    }

    public float beta2() {
        return beta2;
    }

    public float epsilon() {
        return epsilon;
    }

    @Override
    public String name() {
        return "adam_update";
    }

    /** Gradient, first moment, second moment, scalars. */
    @Override
    public int arity() {
        return 4;
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        Shape g = inputs.get(0);
        if (g == null) {
            throw new IllegalArgumentException(name() + ": gradient shape must not be null");
        }
        StepScalars.sameShape(name(), "first moment", g, inputs.get(1));
        StepScalars.sameShape(name(), "second moment", g, inputs.get(2));
        StepScalars.require(name(), inputs.get(3));
        return g;
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        outputShape(inputs);
        return List.of();
    }

    @Override
    public long flops(List<Shape> inputs) {
        return outputShape(inputs).elementCount() * 13;
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        return name() + "(w=" + inputs.get(0) + ",beta1=" + beta1 + ",beta2=" + beta2 + ",eps=" + epsilon + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AdamUpdate a && Float.compare(a.beta1, beta1) == 0 && Float.compare(a.beta2, beta2) == 0
                && Float.compare(a.epsilon, epsilon) == 0;
    }

    @Override
    public int hashCode() {
        return Float.hashCode(beta1) * 31 * 31 + Float.hashCode(beta2) * 31 + Float.hashCode(epsilon);
    }

    @Override
    public String toString() {
        return name() + "(beta1=" + beta1 + ",beta2=" + beta2 + ",eps=" + epsilon + ")";
    }
}
