package org.convkit.ops.ref;

import org.convkit.ops.Dense;

/**
 * The dense (ONNX Gemm) reference: {@code Y = act(alpha * A' * B' + beta * C)} in nested scalar
 * loops with double accumulation, transposes and C's broadcasting spelled out index by index.
 * Besides the output it returns, per element, the magnitude of what was summed,
 * {@code |alpha| * sum_k |A'[m,k] * B'[k,n]| + |beta * C[m,n]|}: the scale that float32
 * rounding error is proportional to.
 */
public final class DenseRef {
    private DenseRef() {
    }

    /** Output and per-element magnitude, both {@code [M, N]} row-major. */
    public record Result(double[] y, double[] magnitude) {
    }

    /** {@code c} is null when the layer has no bias. */
    public static Result forward(Dense.Geometry g, float[] a, float[] b, float[] c) {
        int m = g.m();
        int n = g.n();
        int k = g.k();
        double[] y = new double[m * n];
        double[] mag = new double[m * n];
        int cRows = c == null ? 0 : g.bias().rank() == 2 ? g.bias().dim(0) : 1;
        int cCols = c == null ? 0 : g.bias().dim(-1);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    double av = g.transA() ? a[p * m + i] : a[i * k + p];
                    double bv = g.transB() ? b[j * k + p] : b[p * n + j];
                    acc += av * bv;
                    sum += Math.abs(av * bv);
                }
                double v = g.alpha() * acc;
                double s = Math.abs(g.alpha()) * sum;
                if (c != null) {
                    // ONNX unidirectional broadcasting: a dimension of size 1 repeats.
                    int ci = cRows == 1 ? 0 : i;
                    int cj = cCols == 1 ? 0 : j;
                    double bias = (double) g.beta() * c[ci * cCols + cj];
                    v += bias;
                    s += Math.abs(bias);
                }
                y[i * n + j] = g.activation().apply(v);
                mag[i * n + j] = s;
            }
        }
        return new Result(y, mag);
    }
}
