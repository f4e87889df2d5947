package org.convkit.ops.ref;

import java.util.Arrays;
import java.util.List;

import org.convkit.ops.Pool2d;
import org.convkit.testing.GradReference;

/**
 * The backward reference of max and average pooling (global pooling as the pooling whose window is
 * the plane): every tap of every window is visited as {@link Pool2dRef} visits it. Average: each
 * input tap gets {@code dy / divisor}, the divisor counting padded taps only with
 * {@code countIncludePad} and a ceil-mode overhang never. Max: the window's first tap holding its
 * maximum (row-major tap order; ties to the first) gets dy.
 */
public final class Pool2dGradRef implements GradReference {
    private final Pool2d.Geometry g;

    public Pool2dGradRef(Pool2d.Geometry g) {
        this.g = g;
    }

    @Override
    public double[] forward(List<double[]> args) {
        double[] y = new double[g.n() * g.c() * g.oh() * g.ow()];
        visit(args.get(0), (o, taps, count, divisor) -> {
            double v = g.mode() == Pool2d.Mode.MAX ? Double.NEGATIVE_INFINITY : 0;
            for (int t = 0; t < count; t++) {
                v = g.mode() == Pool2d.Mode.MAX ? Math.max(v, args.get(0)[taps[t]]) : v + args.get(0)[taps[t]];
            }
            y[o] = g.mode() == Pool2d.Mode.MAX ? v : v / divisor;
        });
        return y;
    }

    @Override
    public List<Grad> backward(List<double[]> args, double[] y, double[] dy) {
        double[] x = args.get(0);
        double[] dx = new double[x.length];
        double[] m = new double[x.length];
        visit(x, (o, taps, count, divisor) -> {
            if (g.mode() == Pool2d.Mode.MAX) {
                int best = taps[0];
                for (int t = 1; t < count; t++) {
                    if (x[taps[t]] > x[best]) {
                        best = taps[t];
                    }
                }
                dx[best] += dy[o];
                m[best] += Math.abs(dy[o]);
            } else {
                for (int t = 0; t < count; t++) {
                    dx[taps[t]] += dy[o] / divisor;
                    m[taps[t]] += Math.abs(dy[o]) / divisor;
                }
            }
        });
        return Arrays.asList(new Grad(dx, m));
    }

    /** One window: output index, the input indices of its taps inside the input (in tap order), their count, the divisor. */
    private interface Window {
        void accept(int o, int[] taps, int count, int divisor);
    }

    private void visit(double[] x, Window window) {
        int[] taps = new int[g.kh() * g.kw()];
        for (int n = 0; n < g.n(); n++) {
            for (int c = 0; c < g.c(); c++) {
                for (int oh = 0; oh < g.oh(); oh++) {
                    for (int ow = 0; ow < g.ow(); ow++) {
                        int count = 0;
                        int padded = 0;
                        for (int r = 0; r < g.kh(); r++) {
                            int ih = oh * g.sh() - g.padTop() + r * g.dh();
                            for (int s = 0; s < g.kw(); s++) {
                                int iw = ow * g.sw() - g.padLeft() + s * g.dw();
                                if (ih >= 0 && ih < g.h() && iw >= 0 && iw < g.w()) {
                                    taps[count++] = ((n * g.c() + c) * g.h() + ih) * g.w() + iw;
                                } else if (ih >= -g.padTop() && ih < g.h() + g.padBottom() && iw >= -g.padLeft()
                                        && iw < g.w() + g.padRight()) {
                                    padded++;
                                }
                            }
                        }
                        int divisor = g.countIncludePad() ? count + padded : count;
                        window.accept(((n * g.c() + c) * g.oh() + oh) * g.ow() + ow, taps, count, divisor);
                    }
                }
            }
        }
    }
}
