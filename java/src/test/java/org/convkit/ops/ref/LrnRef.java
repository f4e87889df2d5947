package org.convkit.ops.ref;

import org.convkit.ops.Lrn;
import org.convkit.tensor.Shape;
import org.convkit.testing.OpHarness;

/**
 * The LRN reference, straight from the two definitions, in double: ONNX sums the squares over
 * channels {@code [c - floor((size-1)/2), c + ceil((size-1)/2)]} and scales by alpha / size;
 * TensorFlow sums over {@code [c - r, c + r]} and scales by alpha; both clip the window to the
 * existing channels, then {@code y = x / (bias + scale * sum)^beta}. It reads the descriptor's
 * public hyper-parameters, not the {@link Lrn.Geometry} the kernels use, so that a mistake there
 * shows. The error scale of an element is {@code |y|}: y is x times a positive factor, so its
 * float32 error is relative to |y| (floor {@link Float#MIN_NORMAL}, for x = 0).
 */
public final class LrnRef {
    private LrnRef() {
    }

    public static OpHarness.Expected forward(Lrn op, Shape input, float[] x) {
        int n = input.dim(0);
        int c = input.dim(1);
        int spatial = (int) (input.elementCount() / ((long) n * c));
        int lowOffset;
        int highOffset;
        double scale;
        if (op.convention() == Lrn.Convention.ONNX) {
            int size = (int) op.size();
            lowOffset = Math.floorDiv(size - 1, 2);
            highOffset = (size - 1) - Math.floorDiv(size - 1, 2); // ceil((size-1)/2)
            scale = (double) op.alpha() / size;
        } else {
            lowOffset = op.depthRadius();
            highOffset = op.depthRadius();
            scale = op.alpha();
        }
        double[] y = new double[x.length];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int s = 0; s < spatial; s++) {
                    double sum = 0;
                    for (long k = (long) ch - lowOffset; k <= (long) ch + highOffset; k++) {
                        if (k < 0 || k >= c) {
                            continue;
                        }
                        double v = x[(int) (((long) b * c + k) * spatial + s)];
                        sum += v * v;
                    }
                    int i = (b * c + ch) * spatial + s;
                    y[i] = x[i] / Math.pow(op.bias() + scale * sum, op.beta());
                }
            }
        }
        return new OpHarness.Expected(y, OpHarness.magnitudeScale(y, Float.MIN_NORMAL));
    }
}
