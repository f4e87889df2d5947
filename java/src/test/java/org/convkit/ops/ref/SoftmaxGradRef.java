package org.convkit.ops.ref;

import java.util.Arrays;
import java.util.List;

import org.convkit.ops.Softmax;
import org.convkit.testing.GradReference;

/**
 * The backward reference of softmax: along each row of {@code [outer, length, inner]}, the forward
 * {@code exp(x - max) / sum exp(x - max)} in double and {@code dx = y (dy - sum dy y)}; the
 * magnitude {@code |y| (|dy| + sum |dy y|)}.
 */
public final class SoftmaxGradRef implements GradReference {
    private final Softmax.Geometry g;

    public SoftmaxGradRef(Softmax.Geometry g) {
        this.g = g;
    }

    private int at(long o, int k, long i) {
        return (int) ((o * g.length() + k) * g.inner() + i);
    }

    @Override
    public double[] forward(List<double[]> args) {
        double[] x = args.get(0);
        double[] y = new double[x.length];
        for (long o = 0; o < g.outer(); o++) {
            for (long i = 0; i < g.inner(); i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < g.length(); k++) {
                    max = Math.max(max, x[at(o, k, i)]);
                }
                double sum = 0;
                for (int k = 0; k < g.length(); k++) {
                    sum += Math.exp(x[at(o, k, i)] - max);
                }
                for (int k = 0; k < g.length(); k++) {
                    y[at(o, k, i)] = Math.exp(x[at(o, k, i)] - max) / sum;
                }
            }
        }
        return y;
    }

    @Override
    public List<Grad> backward(List<double[]> args, double[] y, double[] dy) {
        double[] dx = new double[y.length];
        double[] m = new double[y.length];
        for (long o = 0; o < g.outer(); o++) {
            for (long i = 0; i < g.inner(); i++) {
                double dot = 0;
                double abs = 0;
                for (int k = 0; k < g.length(); k++) {
                    dot += dy[at(o, k, i)] * y[at(o, k, i)];
                    abs += Math.abs(dy[at(o, k, i)] * y[at(o, k, i)]);
                }
                for (int k = 0; k < g.length(); k++) {
                    int j = at(o, k, i);
                    dx[j] = y[j] * (dy[j] - dot);
                    m[j] = Math.abs(y[j]) * (Math.abs(dy[j]) + abs);
                }
            }
        }
        return Arrays.asList(new Grad(dx, m));
    }
}
