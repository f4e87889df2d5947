package org.convkit.ops.ref;

import java.util.Arrays;
import java.util.List;

import org.convkit.ops.Upsample;
import org.convkit.testing.GradReference;

/**
 * The backward reference of upsampling: the forward as {@link UpsampleRef} computes it (ONNX
 * Resize's coordinate formulas in double, nearest by exact comparison), written as weighted reads
 * of input pixels, and each read's weight times dy added back to the pixel it read.
 */
public final class UpsampleGradRef implements GradReference {
    private final Upsample.Geometry g;

    public UpsampleGradRef(Upsample.Geometry g) {
        this.g = g;
    }

    /** One output element's reads: input plane offsets and weights. */
    private interface Read {
        void accept(int out, int in, double weight);
    }

    private void reads(Read read) {
        boolean nearest = g.mode() == Upsample.Mode.NEAREST;
        for (int p = 0; p < g.n() * g.c(); p++) {
            for (int oh = 0; oh < g.oh(); oh++) {
                for (int ow = 0; ow < g.ow(); ow++) {
                    int at = (p * g.oh() + oh) * g.ow() + ow;
                    if (nearest) {
                        int ih = UpsampleRef.nearestIndex(oh, g.h(), g.oh(), g.sized(), g.scaleH());
                        int iw = UpsampleRef.nearestIndex(ow, g.w(), g.ow(), g.sized(), g.scaleW());
                        read.accept(at, (p * g.h() + ih) * g.w() + iw, 1);
                        continue;
                    }
                    double ys = UpsampleRef.source(g.coordinates(), oh, g.h(), g.oh(), g.sized(), g.scaleH());
                    double xs = UpsampleRef.source(g.coordinates(), ow, g.w(), g.ow(), g.sized(), g.scaleW());
                    int h0 = (int) Math.floor(ys);
                    int w0 = (int) Math.floor(xs);
                    double fy = ys - h0;
                    double fx = xs - w0;
                    int[] rows = {clamp(h0, g.h()), clamp(h0 + 1, g.h())};
                    int[] cols = {clamp(w0, g.w()), clamp(w0 + 1, g.w())};
                    double[] wy = {1 - fy, fy};
                    double[] wx = {1 - fx, fx};
                    for (int i = 0; i < 2; i++) {
                        for (int j = 0; j < 2; j++) {
                            read.accept(at, (p * g.h() + rows[i]) * g.w() + cols[j], wy[i] * wx[j]);
                        }
                    }
                }
            }
        }
    }

    private static int clamp(int i, int n) {
        return Math.max(0, Math.min(n - 1, i));
    }

    @Override
    public double[] forward(List<double[]> args) {
        double[] x = args.get(0);
        double[] y = new double[g.n() * g.c() * g.oh() * g.ow()];
        reads((out, in, w) -> y[out] += w * x[in]);
        return y;
    }

    @Override
    public List<Grad> backward(List<double[]> args, double[] y, double[] dy) {
        double[] dx = new double[args.get(0).length];
        double[] m = new double[dx.length];
        reads((out, in, w) -> {
            dx[in] += w * dy[out];
            m[in] += Math.abs(w * dy[out]);
        });
        return Arrays.asList(new Grad(dx, m));
    }
}
