package org.convkit.ops.ref;

import java.util.Arrays;
import java.util.List;

import org.convkit.ops.ActivationOp;
import org.convkit.testing.GradReference;

/**
 * The backward reference of the standalone activations: the ONNX forward definitions in double,
 * and their derivatives written from the same definitions (0 at the kinks: relu at 0, clip and
 * hard_sigmoid on their bounds). An element-wise derivative's error scale is its own magnitude.
 */
public final class ActivationGradRef implements GradReference {
    private final ActivationOp op;

    public ActivationGradRef(ActivationOp op) {
        this.op = op;
    }

    @Override
    public double[] forward(List<double[]> args) {
        double[] x = args.get(0);
        double[] y = new double[x.length];
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
                case CLIP -> Math.min(Math.max(v, alpha), beta);
            };
        }
        return y;
    }

    @Override
    public List<Grad> backward(List<double[]> args, double[] y, double[] dy) {
        double[] x = args.get(0);
        double[] dx = new double[x.length];
        double alpha = op.alpha();
        double beta = op.beta();
        for (int i = 0; i < x.length; i++) {
            dx[i] = switch (op.kind()) {
                case RELU -> x[i] > 0 ? dy[i] : 0;
                case LEAKY_RELU -> x[i] < 0 ? alpha * dy[i] : dy[i];
                case SIGMOID -> dy[i] * y[i] * (1 - y[i]);
                case TANH -> dy[i] * (1 - y[i] * y[i]);
                case HARD_SIGMOID -> alpha * x[i] + beta > 0 && alpha * x[i] + beta < 1 ? alpha * dy[i] : 0;
                case CLIP -> x[i] > alpha && x[i] < beta ? dy[i] : 0;
            };
        }
        double[] m = Arrays.stream(dx).map(Math::abs).toArray();
        return Arrays.asList(new Grad(dx, m));
    }
}
