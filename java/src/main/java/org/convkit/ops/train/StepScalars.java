package org.convkit.ops.train;

import org.convkit.tensor.Shape;

/**
 * The scalars an optimizer update reads at each step, kept in one small device buffer that the
 * trainer uploads before the step's updates: the learning rate, and Adam's bias corrections
 * {@code 1 / (1 - beta1^t)} and {@code 1 / (1 - beta2^t)}, which change with the step number t.
 * Passing them in a buffer lets the update kernels be prepared once; a learning-rate schedule
 * costs one 16-byte upload per step.
 */
public final class StepScalars {
    /** Four floats: learning rate, first-moment correction, second-moment correction, unused. */
    public static final Shape SHAPE = Shape.of(4);
    /** Index of the learning rate. */
    public static final int LEARNING_RATE = 0;
    /** Index of {@code 1 / (1 - beta1^t)}. */
    public static final int FIRST_MOMENT_CORRECTION = 1;
    /** Index of {@code 1 / (1 - beta2^t)}. */
    public static final int SECOND_MOMENT_CORRECTION = 2;

    private StepScalars() {
    }

    /** The scalars of an SGD step: the learning rate, corrections 1. */
    public static float[] sgd(float learningRate) {
        return new float[] {learningRate, 1f, 1f, 0f};
    }

    /** The scalars of Adam's step {@code t} (1 for the first step). */
    public static float[] adam(float learningRate, float beta1, float beta2, long t) {
        if (t < 1) {
            throw new IllegalArgumentException("adam: step number must be 1 or more, got " + t);
        }
        return new float[] {learningRate, (float) (1.0 / (1.0 - Math.pow(beta1, t))),
                (float) (1.0 / (1.0 - Math.pow(beta2, t))), 0f};
    }

    /** Checks an update op's scalars operand. */
    static void require(String op, Shape scalars) {
        if (!SHAPE.equals(scalars)) {
            throw new IllegalArgumentException(op + ": step scalars must have shape " + SHAPE + ", got " + scalars);
        }
    }

    /** Checks that a state tensor has the gradient's shape. */
    static void sameShape(String op, String what, Shape gradient, Shape state) {
        if (gradient == null || !gradient.equals(state)) {
            throw new IllegalArgumentException(op + ": " + what + " must have the gradient's shape " + gradient + ", got "
                    + state);
        }
    }
}
