package org.convkit.ops.ref;

/**
 * The optimizer updates and gradient accumulation, in double, on copies of the arrays: the
 * expected parameter and state after one step (the formulas of {@code SgdUpdate},
 * {@code AdamUpdate}, {@code Accumulate}). Each returns {@code {w, state...}}.
 */
public final class OptimizerRef {
    private OptimizerRef() {
    }

    /** Plain SGD: {@code {w - lr * g}}. */
    public static double[][] sgd(float[] w, float[] g, float lr) {
        double[] out = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            out[i] = w[i] - (double) lr * g[i];
        }
        return new double[][] {out};
    }

    /** SGD with momentum: {@code {w - lr * v', v' = mu * v + g}}. */
    public static double[][] momentum(float[] w, float[] g, float[] v, float lr, float mu) {
        double[] w2 = new double[w.length];
        double[] v2 = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            v2[i] = (double) mu * v[i] + g[i];
            w2[i] = w[i] - (double) lr * v2[i];
        }
        return new double[][] {w2, v2};
    }

    /** Adam with the corrections c1, c2 given: {@code {w', m', v'}}. */
    public static double[][] adam(float[] w, float[] g, float[] m, float[] v, float lr, float c1, float c2, float beta1,
            float beta2, float epsilon) {
        double[] w2 = new double[w.length];
        double[] m2 = new double[w.length];
        double[] v2 = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            m2[i] = (double) beta1 * m[i] + (1.0 - beta1) * g[i];
            v2[i] = (double) beta2 * v[i] + (1.0 - beta2) * g[i] * (double) g[i];
            w2[i] = w[i] - (double) lr * (m2[i] * c1) / (Math.sqrt(v2[i] * c2) + epsilon);
        }
        return new double[][] {w2, m2, v2};
    }

    /** {@code {y + x}}. */
    public static double[][] accumulate(float[] y, float[] x) {
        double[] out = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            out[i] = (double) y[i] + x[i];
        }
        return new double[][] {out};
    }

    /** {@code {(1 - m) * y + m * k * stats[row]}}. */
    public static double[][] runningAverage(float[] y, float[] stats, int row, float m, float k) {
        double[] out = new double[y.length];
        for (int c = 0; c < y.length; c++) {
            out[c] = (1.0 - m) * y[c] + (double) m * k * stats[row * y.length + c];
        }
        return new double[][] {out};
    }
}
