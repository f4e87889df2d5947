package org.convkit.ops.ref;

import java.util.Arrays;
import java.util.List;

import org.convkit.ops.Lrn;
import org.convkit.testing.GradReference;

/**
 * The backward reference of LRN: the forward {@code y[c] = x[c] / D[c]^beta},
 * {@code D[c] = bias + scale * sum_{c' in window(c)} x[c']^2} in double, and every partial
 * derivative {@code dy[j] * dy[j]/dx[c]} added where it belongs: {@code D[c]^-beta} on the diagonal,
 * {@code -2 beta scale x[j] x[c] D[j]^(-beta-1)} for each channel j whose window holds c. The
 * magnitude is the sum of the terms' magnitudes.
 */
public final class LrnGradRef implements GradReference {
    private final Lrn.Geometry g;

    public LrnGradRef(Lrn.Geometry g) {
        this.g = g;
    }

    private int at(int n, int c, int s) {
        return (n * g.c() + c) * g.spatial() + s;
    }

    private double base(double[] x, int n, int c, int s) {
        double sum = 0;
        for (int k = Math.max(0, c - g.before()); k <= Math.min(g.c() - 1, c + g.after()); k++) {
            sum += x[at(n, k, s)] * x[at(n, k, s)];
        }
        return g.bias() + g.scale() * sum;
    }

    @Override
    public double[] forward(List<double[]> args) {
        double[] x = args.get(0);
        double[] y = new double[x.length];
        for (int n = 0; n < g.n(); n++) {
            for (int c = 0; c < g.c(); c++) {
                for (int s = 0; s < g.spatial(); s++) {
                    y[at(n, c, s)] = x[at(n, c, s)] / Math.pow(base(x, n, c, s), g.beta());
                }
            }
        }
        return y;
    }

    @Override
    public List<Grad> backward(List<double[]> args, double[] y, double[] dy) {
        double[] x = args.get(0);
        double[] dx = new double[x.length];
        double[] m = new double[x.length];
        double beta = g.beta();
        for (int n = 0; n < g.n(); n++) {
            for (int s = 0; s < g.spatial(); s++) {
                for (int j = 0; j < g.c(); j++) {
                    double d = base(x, n, j, s);
                    double gj = dy[at(n, j, s)];
                    double diag = gj * Math.pow(d, -beta);
                    dx[at(n, j, s)] += diag;
                    m[at(n, j, s)] += Math.abs(diag);
                    for (int c = Math.max(0, j - g.before()); c <= Math.min(g.c() - 1, j + g.after()); c++) {
                        double t = -2 * beta * g.scale() * gj * x[at(n, j, s)] * x[at(n, c, s)] * Math.pow(d, -beta - 1);
                        dx[at(n, c, s)] += t;
                        m[at(n, c, s)] += Math.abs(t);
                    }
                }
            }
        }
        return Arrays.asList(new Grad(dx, m));
    }
}
