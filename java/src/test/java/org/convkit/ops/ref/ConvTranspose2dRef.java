package org.convkit.ops.ref;

import org.convkit.ops.ConvTranspose2d;

/**
 * The conv_transpose2d reference: ONNX ConvTranspose's definition as written, a scatter: every
 * input pixel, times every tap, is added to the output pixel it lands on
 * ({@code ih * stride - padBegin + r * dilation}), those landing outside are dropped. Nested scalar
 * loops, double accumulation. (The kernels gather instead, so the two formulations check each
 * other.) Besides the output it returns, per output element, the magnitude of what was summed,
 * {@code |b| + sum |w * x|}: the scale that float32 rounding error is proportional to.
 */
public final class ConvTranspose2dRef {
    private ConvTranspose2dRef() {
    }

    /** Output and per-element magnitude, both in NCHW order. */
    public record Result(double[] y, double[] magnitude) {
    }

    public static Result forward(ConvTranspose2d.Geometry g, float[] x, float[] w, float[] b) {
        int outCount = g.n() * g.oc() * g.oh() * g.ow();
        double[] y = new double[outCount];
        double[] mag = new double[outCount];
        for (int n = 0; n < g.n(); n++) {
            for (int o = 0; o < g.oc(); o++) {
                for (int i = 0; i < g.oh() * g.ow(); i++) {
                    int at = (n * g.oc() + o) * g.oh() * g.ow() + i;
                    y[at] = b == null ? 0 : b[o];
                    mag[at] = Math.abs(y[at]);
                }
            }
        }
        int cpg = g.cPerGroup();
        int ocpg = g.ocPerGroup();
        for (int n = 0; n < g.n(); n++) {
            for (int c = 0; c < g.c(); c++) {
                int group = c / cpg;
                for (int ih = 0; ih < g.h(); ih++) {
                    for (int iw = 0; iw < g.w(); iw++) {
                        double xv = x[((n * g.c() + c) * g.h() + ih) * g.w() + iw];
                        for (int ol = 0; ol < ocpg; ol++) {
                            int o = group * ocpg + ol;
                            for (int r = 0; r < g.kh(); r++) {
                                int oh = ih * g.sh() - g.padTop() + r * g.dh();
                                if (oh < 0 || oh >= g.oh()) {
                                    continue;
                                }
                                for (int s = 0; s < g.kw(); s++) {
                                    int ow = iw * g.sw() - g.padLeft() + s * g.dw();
                                    if (ow < 0 || ow >= g.ow()) {
                                        continue;
                                    }
                                    double p = xv * w[((c * ocpg + ol) * g.kh() + r) * g.kw() + s];
                                    int at = ((n * g.oc() + o) * g.oh() + oh) * g.ow() + ow;
                                    y[at] += p;
                                    mag[at] += Math.abs(p);
                                }
                            }
                        }
                    }
                }
            }
        }
        for (int i = 0; i < outCount; i++) {
            y[i] = g.activation().apply(y[i]);
        }
        return new Result(y, mag);
    }
}
