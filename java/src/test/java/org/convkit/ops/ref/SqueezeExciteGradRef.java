package org.convkit.ops.ref;

import java.util.Arrays;
import java.util.List;

import org.convkit.ops.SqueezeExcite;
import org.convkit.testing.GradReference;

/**
 * The backward reference of the squeeze-and-excitation block: the forward of its definition in
 * double (mean over H, W; dense + ReLU; dense + sigmoid; channel scale) and the chain rule through
 * it written out, each intermediate carried with its magnitude (the sum of the magnitudes of what
 * it sums, propagated through the later sums), so that the device tolerance scales with what the
 * chain adds up. Arguments: x, w1 [hidden, C], b1, w2 [C, hidden], b2.
 */
public final class SqueezeExciteGradRef implements GradReference {
    private final SqueezeExcite.Geometry g;

    public SqueezeExciteGradRef(SqueezeExcite.Geometry g) {
        this.g = g;
    }

    /** {@code {p [N*C], h [N*hid], s [N*C]}}. */
    private double[][] intermediates(List<double[]> a) {
        int n = g.n();
        int c = g.c();
        int hid = g.hidden();
        int hw = g.h() * g.w();
        double[] x = a.get(0);
        double[] p = new double[n * c];
        for (int i = 0; i < n * c; i++) {
            double sum = 0;
            for (int k = 0; k < hw; k++) {
                sum += x[i * hw + k];
            }
            p[i] = sum / hw;
        }
        double[] h = new double[n * hid];
        for (int b = 0; b < n; b++) {
            for (int j = 0; j < hid; j++) {
                double acc = a.get(2)[j];
                for (int ch = 0; ch < c; ch++) {
                    acc += a.get(1)[j * c + ch] * p[b * c + ch];
                }
                h[b * hid + j] = Math.max(0, acc);
            }
        }
        double[] s = new double[n * c];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                double acc = a.get(4)[ch];
                for (int j = 0; j < hid; j++) {
                    acc += a.get(3)[ch * hid + j] * h[b * hid + j];
                }
                s[b * c + ch] = 1 / (1 + Math.exp(-acc));
            }
        }
        return new double[][] {p, h, s};
    }

    @Override
    public double[] forward(List<double[]> args) {
        double[] s = intermediates(args)[2];
        double[] x = args.get(0);
        int hw = g.h() * g.w();
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i] * s[i / hw];
        }
        return y;
    }

    @Override
    public List<Grad> backward(List<double[]> args, double[] y, double[] dy) {
        int n = g.n();
        int c = g.c();
        int hid = g.hidden();
        int hw = g.h() * g.w();
        double[] x = args.get(0);
        double[] w1 = args.get(1);
        double[] w2 = args.get(3);
        double[][] im = intermediates(args);
        double[] p = im[0];
        double[] h = im[1];
        double[] s = im[2];
        double[] dz2 = new double[n * c];
        double[] mz2 = new double[n * c];
        for (int i = 0; i < n * c; i++) {
            double ds = 0;
            double ms = 0;
            for (int k = 0; k < hw; k++) {
                ds += dy[i * hw + k] * x[i * hw + k];
                ms += Math.abs(dy[i * hw + k] * x[i * hw + k]);
            }
            dz2[i] = ds * s[i] * (1 - s[i]);
            mz2[i] = ms * s[i] * (1 - s[i]);
        }
        double[] dw2 = new double[c * hid];
        double[] mw2 = new double[c * hid];
        double[] db2 = new double[c];
        double[] mb2 = new double[c];
        double[] dz1 = new double[n * hid];
        double[] mz1 = new double[n * hid];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                db2[ch] += dz2[b * c + ch];
                mb2[ch] += mz2[b * c + ch];
                for (int j = 0; j < hid; j++) {
                    dw2[ch * hid + j] += dz2[b * c + ch] * h[b * hid + j];
                    mw2[ch * hid + j] += mz2[b * c + ch] * Math.abs(h[b * hid + j]);
                    if (h[b * hid + j] > 0) {
                        dz1[b * hid + j] += w2[ch * hid + j] * dz2[b * c + ch];
                        mz1[b * hid + j] += Math.abs(w2[ch * hid + j]) * mz2[b * c + ch];
                    }
                }
            }
        }
        double[] dw1 = new double[hid * c];
        double[] mw1 = new double[hid * c];
        double[] db1 = new double[hid];
        double[] mb1 = new double[hid];
        double[] dp = new double[n * c];
        double[] mp = new double[n * c];
        for (int b = 0; b < n; b++) {
            for (int j = 0; j < hid; j++) {
                db1[j] += dz1[b * hid + j];
                mb1[j] += mz1[b * hid + j];
                for (int ch = 0; ch < c; ch++) {
                    dw1[j * c + ch] += dz1[b * hid + j] * p[b * c + ch];
                    mw1[j * c + ch] += mz1[b * hid + j] * Math.abs(p[b * c + ch]);
                    dp[b * c + ch] += w1[j * c + ch] * dz1[b * hid + j];
                    mp[b * c + ch] += Math.abs(w1[j * c + ch]) * mz1[b * hid + j];
                }
            }
        }
        double[] dx = new double[x.length];
        double[] mx = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            dx[i] = dy[i] * s[i / hw] + dp[i / hw] / hw;
            mx[i] = Math.abs(dy[i] * s[i / hw]) + mp[i / hw] / hw;
        }
        return Arrays.asList(new Grad(dx, mx), new Grad(dw1, mw1), new Grad(db1, mb1), new Grad(dw2, mw2),
                new Grad(db2, mb2));
    }
}
