package org.convkit.ops.ref;

import java.util.Arrays;
import java.util.List;

import org.convkit.ops.Activation;
import org.convkit.ops.ConvTranspose2d;
import org.convkit.testing.GradReference;

/**
 * The backward reference of conv_transpose2d: the forward as {@link ConvTranspose2dRef} writes it
 * (ONNX's scatter, in double), and the same loop over every (input pixel, tap) pair that lands in
 * the output, adding each product to the gradients it belongs to: {@code dx += w * dz},
 * {@code dw += x * dz}, {@code db += dz} over the output, where {@code dz = dy} masked by
 * {@code y > 0} under a fused ReLU.
 */
public final class ConvTranspose2dGradRef implements GradReference {
    private final ConvTranspose2d.Geometry g;

    public ConvTranspose2dGradRef(ConvTranspose2d.Geometry g) {
        this.g = g;
    }

    /** Calls {@code pair} for every (input index, weight index, output index) that contributes. */
    private void pairs(Pair pair) {
        int cpg = g.cPerGroup();
        int ocpg = g.ocPerGroup();
        for (int n = 0; n < g.n(); n++) {
            for (int c = 0; c < g.c(); c++) {
                int group = c / cpg;
                for (int ih = 0; ih < g.h(); ih++) {
                    for (int iw = 0; iw < g.w(); iw++) {
                        int xi = ((n * g.c() + c) * g.h() + ih) * g.w() + iw;
                        for (int ol = 0; ol < ocpg; ol++) {
                            int o = group * ocpg + ol;
                            for (int r = 0; r < g.kh(); r++) {
                                int oh = ih * g.sh() - g.padTop() + r * g.dh();
                                for (int s = 0; s < g.kw(); s++) {
                                    int ow = iw * g.sw() - g.padLeft() + s * g.dw();
                                    if (oh >= 0 && oh < g.oh() && ow >= 0 && ow < g.ow()) {
                                        pair.accept(xi, ((c * ocpg + ol) * g.kh() + r) * g.kw() + s,
                                                ((n * g.oc() + o) * g.oh() + oh) * g.ow() + ow);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private interface Pair {
        void accept(int x, int w, int y);
    }

    @Override
    public double[] forward(List<double[]> args) {
        double[] x = args.get(0);
        double[] w = args.get(1);
        double[] b = g.bias() ? args.get(2) : null;
        int plane = g.oh() * g.ow();
        double[] y = new double[g.n() * g.oc() * plane];
        for (int i = 0; i < y.length; i++) {
            y[i] = b == null ? 0 : b[(i / plane) % g.oc()];
        }
        pairs((xi, wi, yi) -> y[yi] += x[xi] * w[wi]);
        for (int i = 0; i < y.length; i++) {
            y[i] = g.activation().apply(y[i]);
        }
        return y;
    }

    @Override
    public List<Grad> backward(List<double[]> args, double[] y, double[] dy) {
        double[] x = args.get(0);
        double[] w = args.get(1);
        double[] dz = new double[dy.length];
        for (int i = 0; i < dy.length; i++) {
            dz[i] = g.activation() == Activation.RELU && !(y[i] > 0) ? 0 : dy[i];
        }
        double[] dx = new double[x.length];
        double[] mx = new double[x.length];
        double[] dw = new double[w.length];
        double[] mw = new double[w.length];
        pairs((xi, wi, yi) -> {
            dx[xi] += w[wi] * dz[yi];
            mx[xi] += Math.abs(w[wi] * dz[yi]);
            dw[wi] += x[xi] * dz[yi];
            mw[wi] += Math.abs(x[xi] * dz[yi]);
        });
        if (!g.bias()) {
            return Arrays.asList(new Grad(dx, mx), new Grad(dw, mw));
        }
        double[] db = new double[g.oc()];
        double[] mb = new double[g.oc()];
        int plane = g.oh() * g.ow();
        for (int i = 0; i < dz.length; i++) {
            db[(i / plane) % g.oc()] += dz[i];
            mb[(i / plane) % g.oc()] += Math.abs(dz[i]);
        }
        return Arrays.asList(new Grad(dx, mx), new Grad(dw, mw), new Grad(db, mb));
    }
}
