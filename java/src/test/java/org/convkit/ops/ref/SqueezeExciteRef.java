package org.convkit.ops.ref;

import org.convkit.ops.SqueezeExcite;

/**
 * The squeeze-and-excitation reference: the formula of {@link SqueezeExcite} in nested scalar
 * loops, in double precision.
 *
 * <p>Besides the output it returns, per output element, the scale that float32 rounding error is
 * proportional to, propagated through the four steps (u is the unit roundoff; each quantity's
 * error is at most a small multiple of u times its magnitude M):
 * <ul>
 *   <li>pooled mean: {@code M(p) = sum |x| / HW};</li>
 *   <li>hidden unit: {@code M(h_j) = |b1_j| + sum_c |W1_jc| M(p_c)} (its own rounding plus the
 *       pooled errors carried through W1; ReLU does not enlarge an error);</li>
 *   <li>pre-sigmoid: {@code M(z_c) = |b2_c| + sum_j |W2_cj| M(h_j)};</li>
 *   <li>scale: {@code M(s_c) = |s_c| + M(z_c) / 4} (the sigmoid's slope is at most 1/4, and its
 *       own evaluation errs relative to |s_c|);</li>
 *   <li>output: {@code M(y) = |x| * M(s_c)}.</li>
 * </ul>
 */
public final class SqueezeExciteRef {
    private SqueezeExciteRef() {
    }

    /** Output and per-element error scale, both NCHW; also the intermediate vectors for tests. */
    public record Result(double[] y, double[] scale, double[] pooled, double[] hidden, double[] scales) {
    }

    public static Result forward(SqueezeExcite.Geometry g, float[] x, float[] w1, float[] b1, float[] w2, float[] b2) {
        int n = g.n();
        int c = g.c();
        int hw = g.h() * g.w();
        int hid = g.hidden();
        double[] p = new double[n * c];
        double[] mp = new double[n * c];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                double sum = 0;
                double mag = 0;
                for (int i = 0; i < hw; i++) {
                    double v = x[(b * c + ch) * hw + i];
                    sum += v;
                    mag += Math.abs(v);
                }
                p[b * c + ch] = sum / hw;
                mp[b * c + ch] = mag / hw;
            }
        }
        double[] h = new double[n * hid];
        double[] mh = new double[n * hid];
        for (int b = 0; b < n; b++) {
            for (int j = 0; j < hid; j++) {
                double acc = b1[j];
                double mag = Math.abs(b1[j]);
                for (int ch = 0; ch < c; ch++) {
                    acc += (double) w1[j * c + ch] * p[b * c + ch];
                    mag += Math.abs((double) w1[j * c + ch]) * mp[b * c + ch];
                }
                h[b * hid + j] = acc < 0 ? 0 : acc;
                mh[b * hid + j] = mag;
            }
        }
        double[] s = new double[n * c];
        double[] ms = new double[n * c];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                double acc = b2[ch];
                double mag = Math.abs(b2[ch]);
                for (int j = 0; j < hid; j++) {
                    acc += (double) w2[ch * hid + j] * h[b * hid + j];
                    mag += Math.abs((double) w2[ch * hid + j]) * mh[b * hid + j];
                }
                s[b * c + ch] = 1.0 / (1.0 + Math.exp(-acc));
                ms[b * c + ch] = s[b * c + ch] + mag / 4;
            }
        }
        double[] y = new double[n * c * hw];
        double[] scale = new double[n * c * hw];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < hw; i++) {
                    int idx = (b * c + ch) * hw + i;
                    y[idx] = x[idx] * s[b * c + ch];
                    scale[idx] = Math.abs((double) x[idx]) * ms[b * c + ch];
                }
            }
        }
        return new Result(y, scale, p, h, s);
    }
}
