package org.convkit.ops.ref;

import org.convkit.ops.GlobalPool2d;
import org.convkit.tensor.Shape;

/**
 * The globalavgpool2d / globalmaxpool2d reference: per (n, c) plane, the mean (double sum) or
 * the maximum of its {@code h * w} elements, straight from ONNX GlobalAveragePool and
 * GlobalMaxPool. Error scale per output: for the average, {@code sum |x| / (h * w)}; for the
 * maximum, {@code |y|}. A NaN input makes its plane's result NaN.
 */
public final class GlobalPool2dRef {
    private GlobalPool2dRef() {
    }

    /** Output and per-element error scale, {@code [N, C, 1, 1]} order. */
    public record Result(double[] y, double[] scale) {
    }

    public static Result forward(GlobalPool2d.Mode mode, Shape input, float[] x) {
        int planes = input.n() * input.c();
        int hw = input.h() * input.w();
        double[] y = new double[planes];
        double[] scale = new double[planes];
        for (int p = 0; p < planes; p++) {
            double max = Double.NEGATIVE_INFINITY;
            double sum = 0;
            double magnitude = 0;
            boolean nan = false;
            for (int i = 0; i < hw; i++) {
                double v = x[p * hw + i];
                nan |= Double.isNaN(v);
                max = Math.max(max, v);
                sum += v;
                magnitude += Math.abs(v);
            }
            if (mode == GlobalPool2d.Mode.MAX) {
                y[p] = nan ? Double.NaN : max;
                scale[p] = Math.abs(y[p]);
            } else {
                y[p] = sum / hw;
                scale[p] = magnitude / hw;
            }
        }
        return new Result(y, scale);
    }
}
