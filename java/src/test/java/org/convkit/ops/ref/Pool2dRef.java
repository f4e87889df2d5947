package org.convkit.ops.ref;

import org.convkit.ops.Pool2d;

/**
 * The maxpool2d / avgpool2d reference: nested scalar loops straight from the ONNX MaxPool and
 * AveragePool definitions, double arithmetic, no cleverness. Every tap of every window is
 * visited and classified: inside the input (it takes part), inside the padded input
 * {@code [-padTop, h + padBottom) x [-padLeft, w + padRight)} (it counts in the average's
 * divisor when {@code countIncludePad}), or beyond it (a ceil-mode overhang: ignored).
 *
 * <p>Besides the output it returns each element's error scale: for an average, the mean of the
 * magnitudes of the terms summed, {@code sum |x| / divisor}; for a maximum, {@code |y|} (a
 * correct maximum is one of its inputs exactly). A NaN input makes the maximum and the average
 * NaN.
 */
public final class Pool2dRef {
    private Pool2dRef() {
    }

    /** Output and per-element error scale, both in NCHW order. */
    public record Result(double[] y, double[] scale) {
    }

    public static Result forward(Pool2d.Geometry g, float[] x) {
        int outCount = g.n() * g.c() * g.oh() * g.ow();
        double[] y = new double[outCount];
        double[] scale = new double[outCount];
        for (int n = 0; n < g.n(); n++) {
            for (int c = 0; c < g.c(); c++) {
                for (int oh = 0; oh < g.oh(); oh++) {
                    for (int ow = 0; ow < g.ow(); ow++) {
                        double max = Double.NEGATIVE_INFINITY;
                        double sum = 0;
                        double magnitude = 0;
                        int inside = 0;
                        int padded = 0;
                        boolean nan = false;
                        for (int r = 0; r < g.kh(); r++) {
                            int ih = oh * g.sh() - g.padTop() + r * g.dh();
                            for (int s = 0; s < g.kw(); s++) {
                                int iw = ow * g.sw() - g.padLeft() + s * g.dw();
                                if (ih >= 0 && ih < g.h() && iw >= 0 && iw < g.w()) {
                                    double v = x[((n * g.c() + c) * g.h() + ih) * g.w() + iw];
                                    nan |= Double.isNaN(v);
                                    max = Math.max(max, v);
                                    sum += v;
                                    magnitude += Math.abs(v);
                                    inside++;
                                } else if (ih >= -g.padTop() && ih < g.h() + g.padBottom() && iw >= -g.padLeft()
                                        && iw < g.w() + g.padRight()) {
                                    padded++;
                                }
                            }
                        }
                        if (inside == 0) {
                            throw new IllegalStateException("pool2d reference: a window with no input element in "
                                    + g + " at " + oh + "," + ow + "; the descriptor should have rejected it");
                        }
                        int i = ((n * g.c() + c) * g.oh() + oh) * g.ow() + ow;
                        if (g.mode() == Pool2d.Mode.MAX) {
                            y[i] = nan ? Double.NaN : max;
                            scale[i] = Math.abs(y[i]);
                        } else {
                            int divisor = g.countIncludePad() ? inside + padded : inside;
                            y[i] = sum / divisor;
                            scale[i] = magnitude / divisor;
                        }
                    }
                }
            }
        }
        return new Result(y, scale);
    }
}
