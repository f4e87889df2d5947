package org.convkit.ops.ref;

import org.convkit.tensor.Shape;
import org.convkit.testing.OpHarness;

/**
 * The softmax reference (ONNX opset 13): along one axis, {@code exp(x - max) / sum exp(x - max)}
 * in double, the rows found by walking the axis with the input's own strides. Error scale
 * {@code max(y, 1e-30)}: every term is positive, so float32 errors are relative to y itself.
 */
public final class SoftmaxRef {
    private SoftmaxRef() {
    }

    /** {@code axis} may be negative (counted from the end). */
    public static OpHarness.Expected forward(Shape input, int axis, float[] x) {
        int[] d = input.dims();
        int a = axis < 0 ? axis + d.length : axis;
        int stride = 1;
        for (int k = d.length - 1; k > a; k--) {
            stride *= d[k];
        }
        int length = d[a];
        double[] y = new double[x.length];
        for (int start = 0; start < x.length; start++) {
            // A row starts where the coordinate along the axis is 0.
            if ((start / stride) % length != 0) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < length; j++) {
                max = Math.max(max, x[start + j * stride]);
            }
            double sum = 0;
            for (int j = 0; j < length; j++) {
                sum += Math.exp(x[start + j * stride] - max);
            }
            for (int j = 0; j < length; j++) {
                y[start + j * stride] = Math.exp(x[start + j * stride] - max) / sum;
            }
        }
        return new OpHarness.Expected(y, OpHarness.magnitudeScale(y, ActivationRef.FLOOR));
    }
}
