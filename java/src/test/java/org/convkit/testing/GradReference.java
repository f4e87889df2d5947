package org.convkit.testing;

import java.util.List;

/**
 * The double-precision reference of one op's forward and backward pass, for the gradient checks:
 * nested scalar loops straight from the definitions, no cleverness. {@link GradCheck} holds the
 * backward to central finite differences of the forward; {@link GradHarness} holds every device's
 * gradient kernels to the backward.
 */
public interface GradReference {
    /**
     * A gradient and, per element, the magnitude its float32 error is proportional to: for a sum,
     * the sum of the magnitudes of its terms (rounding in any order errs by a small multiple of the
     * unit roundoff times it); for an element-wise derivative, the value's own magnitude.
     */
    record Grad(double[] value, double[] magnitude) {
    }

    /** The forward output, in double; {@code args} are the inputs, then the parameters. */
    double[] forward(List<double[]> args);

    /**
     * The gradients of {@code sum(dy * y)}: one per input, then one per parameter, in argument order,
     * null for those without a gradient. {@code y} is the forward output (rounded to float in the
     * device checks, as the gradient kernels read it).
     */
    List<Grad> backward(List<double[]> args, double[] y, double[] dy);
}
