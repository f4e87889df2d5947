package org.convkit.ops.ref;

import java.util.List;

import org.convkit.ops.Conv2d;
import org.convkit.ops.SeparableConv2d;
import org.convkit.tensor.Shape;
import org.convkit.testing.OpHarness;

/**
 * sepconv2d by definition: {@link Conv2dRef} for the depthwise half, then for the pointwise half,
 * in double. Error scale of output (o, p): {@code |pb[o]| + sum_c |pw[o,c]| * m_c(p)} where
 * {@code m_c(p)} is the depthwise magnitude (|db| + sum |w x|), which bounds |d| and carries
 * the depthwise rounding error into the pointwise sum.
 */
public final class SeparableConv2dRef {
    private SeparableConv2dRef() {
    }

    /** Arguments in the op's order: x, depthwise weight, [depthwise bias], pointwise weight, [pointwise bias]. */
    public static OpHarness.Expected forward(SeparableConv2d op, Shape input, List<float[]> args) {
        int a = 1;
        float[] dw = args.get(a++);
        float[] db = op.hasDepthwiseBias() ? args.get(a++) : null;
        float[] pw = args.get(a++);
        float[] pb = op.hasPointwiseBias() ? args.get(a) : null;
        Conv2d.Geometry dg = op.depthwise(input).geometry(input);
        Conv2dRef.Result d = Conv2dRef.forward(dg, args.get(0), dw, db);
        float[] mid = new float[d.y().length];
        for (int i = 0; i < mid.length; i++) {
            mid[i] = (float) d.y()[i];
        }
        Conv2d.Geometry pg = op.pointwise().geometry(dg.outputShape());
        double[] y = pointwise(pg, d.y(), pw, pb);
        double[] scale = new double[y.length];
        int cm = dg.oc();
        int hw = pg.oh() * pg.ow();
        for (int n = 0; n < pg.n(); n++) {
            for (int o = 0; o < pg.oc(); o++) {
                for (int p = 0; p < hw; p++) {
                    double s = pb == null ? 0 : Math.abs(pb[o]);
                    for (int c = 0; c < cm; c++) {
                        s += Math.abs(pw[o * cm + c]) * d.magnitude()[(n * cm + c) * hw + p];
                    }
                    scale[(n * pg.oc() + o) * hw + p] = s;
                }
            }
        }
        return new OpHarness.Expected(y, scale);
    }

    /** The 1x1 half on the depthwise result kept in double. */
    private static double[] pointwise(Conv2d.Geometry g, double[] d, float[] w, float[] b) {
        int hw = g.h() * g.w();
        double[] y = new double[g.n() * g.oc() * hw];
        for (int n = 0; n < g.n(); n++) {
            for (int o = 0; o < g.oc(); o++) {
                for (int p = 0; p < hw; p++) {
                    double acc = b == null ? 0 : b[o];
                    for (int c = 0; c < g.c(); c++) {
                        acc += (double) w[o * g.c() + c] * d[(n * g.c() + c) * hw + p];
                    }
                    y[(n * g.oc() + o) * hw + p] = g.activation().apply(acc);
                }
            }
        }
        return y;
    }
}
