package org.convkit.ops.ref;

import java.util.Arrays;
import java.util.List;

import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.testing.GradReference;

/**
 * The backward reference of conv2d: the forward as {@link Conv2dRef} computes it (in double), and
 * one loop over every (output element, tap) pair that adds each product to the three gradients it
 * belongs to: {@code dx += dz * w}, {@code dw += dz * x}, {@code db += dz}, where
 * {@code dz = dy}, masked by {@code y > 0} under a fused ReLU. Magnitudes are the sums of the
 * terms' magnitudes.
 */
public final class Conv2dGradRef implements GradReference {
    private final Conv2d.Geometry g;

    public Conv2dGradRef(Conv2d.Geometry g) {
        this.g = g;
    }

    @Override
    public double[] forward(List<double[]> args) {
        double[] x = args.get(0);
        double[] w = args.get(1);
        double[] b = g.bias() ? args.get(2) : null;
        double[] y = new double[g.n() * g.oc() * g.oh() * g.ow()];
        int cpg = g.cPerGroup();
        for (int n = 0; n < g.n(); n++) {
            for (int o = 0; o < g.oc(); o++) {
                int c0 = (o / g.ocPerGroup()) * cpg;
                for (int oh = 0; oh < g.oh(); oh++) {
                    for (int ow = 0; ow < g.ow(); ow++) {
                        double acc = b == null ? 0 : b[o];
                        for (int ci = 0; ci < cpg; ci++) {
                            for (int r = 0; r < g.kh(); r++) {
                                int ih = oh * g.sh() - g.padTop() + r * g.dh();
                                for (int s = 0; s < g.kw(); s++) {
                                    int iw = ow * g.sw() - g.padLeft() + s * g.dw();
                                    if (ih >= 0 && ih < g.h() && iw >= 0 && iw < g.w()) {
                                        acc += x[((n * g.c() + c0 + ci) * g.h() + ih) * g.w() + iw]
                                                * w[((o * cpg + ci) * g.kh() + r) * g.kw() + s];
                                    }
                                }
                            }
                        }
                        y[((n * g.oc() + o) * g.oh() + oh) * g.ow() + ow] = g.activation().apply(acc);
                    }
                }
            }
        }
        return y;
    }

    @Override
    public List<Grad> backward(List<double[]> args, double[] y, double[] dy) {
        double[] x = args.get(0);
        double[] w = args.get(1);
        double[] dx = new double[x.length];
        double[] mx = new double[x.length];
        double[] dw = new double[w.length];
        double[] mw = new double[w.length];
        double[] db = new double[g.oc()];
        double[] mb = new double[g.oc()];
        int cpg = g.cPerGroup();
        for (int n = 0; n < g.n(); n++) {
            for (int o = 0; o < g.oc(); o++) {
                int c0 = (o / g.ocPerGroup()) * cpg;
                for (int oh = 0; oh < g.oh(); oh++) {
                    for (int ow = 0; ow < g.ow(); ow++) {
                        int yi = ((n * g.oc() + o) * g.oh() + oh) * g.ow() + ow;
                        double dz = g.activation() == Activation.RELU && !(y[yi] > 0) ? 0 : dy[yi];
                        db[o] += dz;
                        mb[o] += Math.abs(dz);
                        for (int ci = 0; ci < cpg; ci++) {
                            for (int r = 0; r < g.kh(); r++) {
                                int ih = oh * g.sh() - g.padTop() + r * g.dh();
                                for (int s = 0; s < g.kw(); s++) {
                                    int iw = ow * g.sw() - g.padLeft() + s * g.dw();
                                    if (ih < 0 || ih >= g.h() || iw < 0 || iw >= g.w()) {
                                        continue;
                                    }
                                    int xi = ((n * g.c() + c0 + ci) * g.h() + ih) * g.w() + iw;
                                    int wi = ((o * cpg + ci) * g.kh() + r) * g.kw() + s;
                                    dx[xi] += dz * w[wi];
                                    mx[xi] += Math.abs(dz * w[wi]);
                                    dw[wi] += dz * x[xi];
                                    mw[wi] += Math.abs(dz * x[xi]);
                                }
                            }
                        }
                    }
                }
            }
        }
        return g.bias() ? Arrays.asList(new Grad(dx, mx), new Grad(dw, mw), new Grad(db, mb))
                : Arrays.asList(new Grad(dx, mx), new Grad(dw, mw));
    }
}
