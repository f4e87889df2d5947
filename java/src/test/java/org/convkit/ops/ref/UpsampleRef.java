package org.convkit.ops.ref;

import org.convkit.ops.Upsample;

/**
 * The upsample reference: ONNX Resize's formulas as written, in double, one output element at a
 * time. The source coordinate is {@code x / scale} (asymmetric), {@code (x + 0.5) / scale - 0.5}
 * (half_pixel) or {@code x * (in - 1) / (length - 1)} (align_corners, {@code length = in * scale}
 * unrounded, or the output size when that was given). Nearest reads the largest index {@code i}
 * with {@code i <= x / scale}, decided by the exact comparison {@code i * scale <= x} (integers
 * when the size was given; a float scale times an index below 2^29 is exact in double), so that
 * double rounding of the quotient cannot move it. Bilinear weights its two clamped neighbours
 * per axis by distance.
 *
 * <p>Returns, per element, the magnitude its error is measured against: for nearest the value
 * itself (the kernels must copy it exactly), for bilinear {@code sum |weight * value|} over the
 * four terms.
 */
public final class UpsampleRef {
    private UpsampleRef() {
    }

    /** Output and per-element magnitude, both in NCHW order. */
    public record Result(double[] y, double[] magnitude) {
    }

    public static Result forward(Upsample.Geometry g, float[] x) {
        int outCount = g.n() * g.c() * g.oh() * g.ow();
        double[] y = new double[outCount];
        double[] mag = new double[outCount];
        boolean nearest = g.mode() == Upsample.Mode.NEAREST;
        for (int p = 0; p < g.n() * g.c(); p++) {
            for (int oh = 0; oh < g.oh(); oh++) {
                for (int ow = 0; ow < g.ow(); ow++) {
                    int at = (p * g.oh() + oh) * g.ow() + ow;
                    if (nearest) {
                        int ih = nearestIndex(oh, g.h(), g.oh(), g.sized(), g.scaleH());
                        int iw = nearestIndex(ow, g.w(), g.ow(), g.sized(), g.scaleW());
                        y[at] = x[(p * g.h() + ih) * g.w() + iw];
                        mag[at] = Math.abs(y[at]);
                        continue;
                    }
                    double ys = source(g.coordinates(), oh, g.h(), g.oh(), g.sized(), g.scaleH());
                    double xs = source(g.coordinates(), ow, g.w(), g.ow(), g.sized(), g.scaleW());
                    int h0 = (int) Math.floor(ys);
                    int w0 = (int) Math.floor(xs);
                    double fy = ys - h0;
                    double fx = xs - w0;
                    int[] rows = {clamp(h0, g.h()), clamp(h0 + 1, g.h())};
                    int[] cols = {clamp(w0, g.w()), clamp(w0 + 1, g.w())};
                    double[] wy = {1 - fy, fy};
                    double[] wx = {1 - fx, fx};
                    double acc = 0;
                    double m = 0;
                    for (int i = 0; i < 2; i++) {
                        for (int j = 0; j < 2; j++) {
                            double term = wy[i] * wx[j] * x[(p * g.h() + rows[i]) * g.w() + cols[j]];
                            acc += term;
                            m += Math.abs(term);
                        }
                    }
                    y[at] = acc;
                    mag[at] = m;
                }
            }
        }
        return new Result(y, mag);
    }

    /** ONNX's source coordinate of output index x on an axis of {@code in} -> {@code out}. */
    static double source(Upsample.Coordinates mode, int x, int in, int out, boolean sized, float scaleFactor) {
        double scale = sized ? (double) out / in : scaleFactor;
        return switch (mode) {
            case ASYMMETRIC -> x / scale;
            case HALF_PIXEL -> (x + 0.5) / scale - 0.5;
            case ALIGN_CORNERS -> {
                double length = sized ? out : (double) in * scaleFactor;
                yield length == 1 ? 0 : x * (in - 1.0) / (length - 1);
            }
        };
    }

    /** The largest i in [0, in) with i <= x / scale, by exact comparison. */
    static int nearestIndex(int x, int in, int out, boolean sized, float scaleFactor) {
        int i = 0;
        while (i + 1 < in && (sized ? (long) (i + 1) * out <= (long) x * in : (i + 1) * (double) scaleFactor <= x)) {
            i++;
        }
        return i;
    }

    private static int clamp(int i, int n) {
        return Math.max(0, Math.min(n - 1, i));
    }
}
