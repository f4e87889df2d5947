package org.convkit.ops.train;

import java.util.List;

import org.convkit.ops.Op;
import org.convkit.tensor.Shape;

/**
 * One step of stochastic gradient descent on one parameter tensor, in place. Plain SGD
 * ({@code momentum} 0) reads the gradient g and the {@link StepScalars} and updates
 * {@code w -= lr * g}; with momentum mu it also reads the velocity v and updates both,
 * {@code v = mu * v + g; w -= lr * v} (the form of PyTorch's SGD and of Sutskever et al. 2013
 * without Nesterov's look-ahead).
 *
 * <p>Inputs: the gradient, the velocity (with momentum only) and the step scalars; the output is
 * the parameter itself, which the kernel reads and writes, and the velocity is written too. The
 * gradient is only read. FLOPs: 2 per element (4 with momentum).
 */
public final class SgdUpdate implements Op {
    private final float momentum;

    private SgdUpdate(float momentum) {
        if (!(momentum >= 0f && momentum < 1f)) {
            throw new IllegalArgumentException("sgd_update: momentum must be in [0, 1), got " + momentum);
        }
        this.momentum = momentum;
    }

    /** Plain SGD: no state. */
    public static SgdUpdate plain() {
        return new SgdUpdate(0f);
    }

    /** SGD with momentum {@code mu} in (0, 1) (0.9 is usual); 0 is plain SGD. */
    public static SgdUpdate withMomentum(float mu) {
        return new SgdUpdate(mu);
    }

    public float momentum() {
        return momentum;
    }

    /** Whether this update keeps a velocity. */
    public boolean hasVelocity() {
        return momentum > 0f;
    }

    @Override
    public String name() {
        return hasVelocity() ? "sgd_momentum_update" : "sgd_update";
    }

    /** Gradient and scalars; the velocity between them with momentum. */
    @Override
    public int arity() {
        return hasVelocity() ? 3 : 2;
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        Shape g = inputs.get(0);
        if (g == null) {
            throw new IllegalArgumentException(name() + ": gradient shape must not be null");
        }
        if (hasVelocity()) {
            StepScalars.sameShape(name(), "velocity", g, inputs.get(1));
        }
        StepScalars.require(name(), inputs.get(inputs.size() - 1));
        return g;
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        outputShape(inputs);
        return List.of();
    }

    @Override
    public long flops(List<Shape> inputs) {
        return outputShape(inputs).elementCount() * (hasVelocity() ? 4 : 2);
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        return name() + "(w=" + inputs.get(0) + (hasVelocity() ? ",momentum=" + momentum : "") + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SgdUpdate s && Float.compare(s.momentum, momentum) == 0;
    }

    @Override
    public int hashCode() {
        return Float.hashCode(momentum);
    }

    @Override
    public String toString() {
        return name() + (hasVelocity() ? "(momentum=" + momentum + ")" : "");
    }
}
