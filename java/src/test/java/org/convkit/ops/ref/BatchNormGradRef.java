package org.convkit.ops.ref;

import java.util.Arrays;
import java.util.List;

import org.convkit.testing.GradReference;

/**
 * The backward reference of batch normalization on {@code [N, C, S]} (S the product of the
 * dimensions after the channels), in double. Training form: the batch's mean and biased variance
 * per channel (two passes), {@code y = scale (x - mean) / sigma + B}, and the textbook gradients
 * through the statistics, {@code dx = scale / sigma (dy - mean(dy) - xhat mean(dy xhat))},
 * {@code dscale = sum dy xhat}, {@code dB = sum dy}. Inference form: mean and var are parameters,
 * {@code dx = dy scale / sigma}, {@code dscale = sum dy (x - mean) / sigma}, {@code dB = sum dy},
 * none for mean and var. Arguments: x, scale, B, mean, var.
 */
public final class BatchNormGradRef implements GradReference {
    private final boolean training;
    private final double eps;
    private final int n;
    private final int c;
    private final int s;

    public BatchNormGradRef(boolean training, float epsilon, int n, int c, int s) {
        this.training = training;
        this.eps = epsilon;
        this.n = n;
        this.c = c;
        this.s = s;
    }

    private int at(int b, int ch, int i) {
        return (b * c + ch) * s + i;
    }

    /** {@code {mean[C], var[C]}}: the batch's (training form) or the parameters. */
    public double[][] statistics(List<double[]> args) {
        if (!training) {
            return new double[][] {args.get(3), args.get(4)};
        }
        double[] x = args.get(0);
        double[] mean = new double[c];
        double[] var = new double[c];
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < s; i++) {
                    sum += x[at(b, ch, i)];
                }
            }
            mean[ch] = sum / (n * s);
            double sq = 0;
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < s; i++) {
                    sq += (x[at(b, ch, i)] - mean[ch]) * (x[at(b, ch, i)] - mean[ch]);
                }
            }
            var[ch] = sq / (n * s);
        }
        return new double[][] {mean, var};
    }

    @Override
    public double[] forward(List<double[]> args) {
        double[] x = args.get(0);
        double[][] st = statistics(args);
        double[] y = new double[x.length];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < s; i++) {
                    int k = at(b, ch, i);
                    y[k] = args.get(1)[ch] * (x[k] - st[0][ch]) / Math.sqrt(st[1][ch] + eps) + args.get(2)[ch];
                }
            }
        }
        return y;
    }

    @Override
    public List<Grad> backward(List<double[]> args, double[] y, double[] dy) {
        double[] x = args.get(0);
        double[] scale = args.get(1);
        double[][] st = statistics(args);
        double[] dx = new double[x.length];
        double[] mx = new double[x.length];
        double[] ds = new double[c];
        double[] ms = new double[c];
        double[] db = new double[c];
        double[] mb = new double[c];
        int count = n * s;
        for (int ch = 0; ch < c; ch++) {
            double inv = 1 / Math.sqrt(st[1][ch] + eps);
            double sumDy = 0;
            double sumAbsDy = 0;
            double sumDyXhat = 0;
            double sumAbsDyXhat = 0;
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < s; i++) {
                    int k = at(b, ch, i);
                    double xhat = (x[k] - st[0][ch]) * inv;
                    sumDy += dy[k];
                    sumAbsDy += Math.abs(dy[k]);
                    sumDyXhat += dy[k] * xhat;
                    sumAbsDyXhat += Math.abs(dy[k] * xhat);
                }
            }
            ds[ch] = sumDyXhat;
            ms[ch] = sumAbsDyXhat;
            db[ch] = sumDy;
            mb[ch] = sumAbsDy;
            double f = Math.abs(scale[ch]) * inv;
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < s; i++) {
                    int k = at(b, ch, i);
                    double xhat = (x[k] - st[0][ch]) * inv;
                    if (training) {
                        dx[k] = scale[ch] * inv * (dy[k] - sumDy / count - xhat * sumDyXhat / count);
                        mx[k] = f * (Math.abs(dy[k]) + sumAbsDy / count + Math.abs(xhat) * sumAbsDyXhat / count);
                    } else {
                        dx[k] = dy[k] * scale[ch] * inv;
                        mx[k] = Math.abs(dx[k]);
                    }
                }
            }
        }
        return Arrays.asList(new Grad(dx, mx), new Grad(ds, ms), new Grad(db, mb), null, null);
    }
}
