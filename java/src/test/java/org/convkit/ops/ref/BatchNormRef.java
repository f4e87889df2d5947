package org.convkit.ops.ref;

import org.convkit.tensor.Shape;

/**
 * The batch normalization (inference) reference, straight from the ONNX definition in double:
 * {@code y = scale[c] * (x - mean[c]) / sqrt(var[c] + epsilon) + B[c]}, c = dimension 1. The
 * per-element error scale is {@code |f| * (|x| + |mean|) + |B|} with
 * {@code f = scale / sqrt(var + epsilon)}: float32 rounding of the subtraction, the scaling and
 * the addition each err by a few unit roundoffs of one of those terms.
 */
public final class BatchNormRef {
    private BatchNormRef() {
    }

    /** Output and per-element error scale, both in the input's row-major order. */
    public record Result(double[] y, double[] magnitude) {
    }

    public static Result forward(Shape input, float epsilon, float[] x, float[] scale, float[] b, float[] mean,
            float[] var) {
        int n = input.dim(0);
        int channels = input.dim(1);
        int inner = (int) (input.elementCount() / ((long) n * channels));
        double[] y = new double[x.length];
        double[] mag = new double[x.length];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < channels; c++) {
                double f = scale[c] / Math.sqrt((double) var[c] + epsilon);
                for (int s = 0; s < inner; s++) {
                    int idx = (i * channels + c) * inner + s;
                    y[idx] = scale[c] * ((double) x[idx] - mean[c]) / Math.sqrt((double) var[c] + epsilon) + b[c];
                    mag[idx] = Math.abs(f) * (Math.abs(x[idx]) + Math.abs(mean[c])) + Math.abs(b[c]);
                }
            }
        }
        return new Result(y, mag);
    }
}
