package org.convkit.ops.ref;

import org.convkit.ops.ActivationOp;
import org.convkit.testing.OpHarness;

/**
 * The reference of the standalone activations: the ONNX definitions, one double at a time. The
 * error scale of an element is {@code max(|y|, 1e-30)}, except for hard_sigmoid, whose
 * {@code alpha * x + beta} cancels near 0: there it is {@code max(|y|, |alpha * x| + |beta|)}, the
 * size of what was added.
 */
public final class ActivationRef {
    /** Below this, an absolute error counts (a device may flush denormals to zero). */
    public static final double FLOOR = 1e-30;

    private ActivationRef() {
    }

    public static OpHarness.Expected forward(ActivationOp op, float[] x) {
        double[] y = new double[x.length];
        double[] scale = new double[x.length];
        double alpha = op.alpha();
        double beta = op.beta();
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            y[i] = switch (op.kind()) {
                case RELU -> Math.max(0, v);
                case LEAKY_RELU -> v < 0 ? alpha * v : v;
                case SIGMOID -> 1 / (1 + Math.exp(-v));
                case TANH -> Math.tanh(v);
                case HARD_SIGMOID -> Math.max(0, Math.min(1, alpha * v + beta));
                case CLIP -> Math.min(Math.max(v, alpha), beta); // alpha = min, beta = max
            };
            scale[i] = Math.max(Math.abs(y[i]), FLOOR);
            if (op.kind() == ActivationOp.Kind.HARD_SIGMOID) {
                scale[i] = Math.max(scale[i], Math.abs(alpha * v) + Math.abs(beta));
            }
        }
        return new OpHarness.Expected(y, scale);
    }
}
