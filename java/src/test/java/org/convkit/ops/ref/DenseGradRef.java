package org.convkit.ops.ref;

import java.util.Arrays;
import java.util.List;

import org.convkit.ops.Activation;
import org.convkit.ops.Dense;
import org.convkit.testing.GradReference;

/**
 * The backward reference of dense (ONNX Gemm): the forward {@code act(alpha * A'B' + beta * C)} in
 * double, and one loop over every (m, n, k) product adding it to the gradients it belongs to:
 * {@code dA'[m,k] += alpha dz[m,n] B'[k,n]}, {@code dB'[k,n] += alpha A'[m,k] dz[m,n]},
 * {@code dC[c(m,n)] += beta dz[m,n]}, A', B' and C read through their transposes and broadcast.
 */
public final class DenseGradRef implements GradReference {
    private final Dense.Geometry g;

    public DenseGradRef(Dense.Geometry g) {
        this.g = g;
    }

    private int a(int m, int k) {
        return g.transA() ? k * g.m() + m : m * g.k() + k;
    }

    private int b(int k, int n) {
        return g.transB() ? n * g.k() + k : k * g.n() + n;
    }

    private int c(int m, int n) {
        return m * g.biasRowStride() + n * g.biasColStride();
    }

    @Override
    public double[] forward(List<double[]> args) {
        double[] a = args.get(0);
        double[] b = args.get(1);
        double[] c = g.hasBias() ? args.get(2) : null;
        double[] y = new double[g.m() * g.n()];
        for (int m = 0; m < g.m(); m++) {
            for (int n = 0; n < g.n(); n++) {
                double acc = 0;
                for (int k = 0; k < g.k(); k++) {
                    acc += a[a(m, k)] * b[b(k, n)];
                }
                double v = g.alpha() * acc + (c == null ? 0 : g.beta() * c[c(m, n)]);
                y[m * g.n() + n] = g.activation().apply(v);
            }
        }
        return y;
    }

    @Override
    public List<Grad> backward(List<double[]> args, double[] y, double[] dy) {
        double[] a = args.get(0);
        double[] b = args.get(1);
        double[] da = new double[a.length];
        double[] ma = new double[a.length];
        double[] db = new double[b.length];
        double[] mb = new double[b.length];
        int cLen = g.hasBias() ? (int) g.bias().elementCount() : 0;
        double[] dc = new double[cLen];
        double[] mc = new double[cLen];
        double alpha = g.alpha();
        for (int m = 0; m < g.m(); m++) {
            for (int n = 0; n < g.n(); n++) {
                int i = m * g.n() + n;
                double dz = g.activation() == Activation.RELU && !(y[i] > 0) ? 0 : dy[i];
                if (g.hasBias()) {
                    dc[c(m, n)] += g.beta() * dz;
                    mc[c(m, n)] += Math.abs(g.beta() * dz);
                }
                for (int k = 0; k < g.k(); k++) {
                    double ta = alpha * dz * b[b(k, n)];
                    da[a(m, k)] += ta;
                    ma[a(m, k)] += Math.abs(ta);
                    double tb = alpha * a[a(m, k)] * dz;
                    db[b(k, n)] += tb;
                    mb[b(k, n)] += Math.abs(tb);
                }
            }
        }
        return g.hasBias() ? Arrays.asList(new Grad(da, ma), new Grad(db, mb), new Grad(dc, mc))
                : Arrays.asList(new Grad(da, ma), new Grad(db, mb));
    }
}
