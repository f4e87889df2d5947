package org.convkit.ops.ref;

import org.convkit.ops.Conv2d;

/**
 * The conv2d reference: nested scalar loops straight from the definition, double accumulation,
 * no cleverness. Besides the output it returns, per output element, the magnitude of what was
 * summed, {@code |b| + sum |w * x|}: the scale that float32 rounding error is proportional to,
 * which the consistency tests use to normalise errors.
 */
public final class Conv2dRef {
    private Conv2dRef() {
    }

    /** Output and per-element magnitude, both in NCHW order. */
    public record Result(double[] y, double[] magnitude) {
    }

    public static Result forward(Conv2d.Geometry g, float[] x, float[] w, float[] b) {
        int outCount = g.n() * g.oc() * g.oh() * g.ow();
        double[] y = new double[outCount];
        double[] mag = new double[outCount];
        int cpg = g.cPerGroup();
        int ocpg = g.ocPerGroup();
        for (int n = 0; n < g.n(); n++) {
            for (int o = 0; o < g.oc(); o++) {
                int group = o / ocpg;
                for (int oh = 0; oh < g.oh(); oh++) {
                    for (int ow = 0; ow < g.ow(); ow++) {
                        double acc = b == null ? 0 : b[o];
                        double m = Math.abs(acc);
                        for (int ci = 0; ci < cpg; ci++) {
                            int c = group * cpg + ci;
                            for (int r = 0; r < g.kh(); r++) {
                                int ih = oh * g.sh() - g.padTop() + r * g.dh();
                                if (ih < 0 || ih >= g.h()) {
                                    continue;
                                }
                                for (int s = 0; s < g.kw(); s++) {
                                    int iw = ow * g.sw() - g.padLeft() + s * g.dw();
                                    if (iw < 0 || iw >= g.w()) {
                                        continue;
                                    }
                                    double p = (double) x[((n * g.c() + c) * g.h() + ih) * g.w() + iw]
                                            * w[((o * cpg + ci) * g.kh() + r) * g.kw() + s];
                                    acc += p;
                                    m += Math.abs(p);
                                }
                            }
                        }
                        int i = ((n * g.oc() + o) * g.oh() + oh) * g.ow() + ow;
                        y[i] = g.activation().apply(acc);
                        mag[i] = m;
                    }
                }
            }
        }
        return new Result(y, mag);
    }
}
