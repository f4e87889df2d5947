package org.convkit.ops.ref;

import org.convkit.tensor.Shape;
import org.convkit.testing.OpHarness;

/**
 * The softmax cross-entropy reference, in double: per position r of the logits' {@code [outer, K,
 * inner]} view, {@code loss = log(sum_k exp(x_k - max)) - (x_label - max)} and whether the label is
 * the first class of largest logit; the gradient of the mean loss, {@code (softmax - onehot) / M},
 * with the scale given as the float the devices use.
 *
 * <p>Error scales: a loss is a difference of {@code log(sum)} and {@code x_label - max}; the sum
 * is at least 1 (the max's own term) and rounds relative to itself, which makes an absolute error
 * of about its relative error in the log, so the scale is {@code 1 + log(sum) + |x_label - max|}
 * (not the loss, which is near 0 when the label dominates); a right/wrong flag must be exact
 * (scale 0); a
 * gradient element {@code (p - [k == label]) * s} is off by a few ulps of p (exp, the sum and the
 * division), and of 1 where the one is subtracted, so its scale is {@code (p + [k == label]) * s}.
 */
public final class SoftmaxCrossEntropyRef {
    private SoftmaxCrossEntropyRef() {
    }

    /** The loss and right/wrong rows ({@code [2, M]}), labels valid class indices. */
    public static OpHarness.Expected forward(Shape logits, float[] x, float[] labels) {
        int[] d = logits.dims();
        int classes = d[1];
        int inner = 1;
        for (int i = 2; i < d.length; i++) {
            inner *= d[i];
        }
        int rows = d[0] * inner;
        double[] y = new double[2 * rows];
        double[] scale = new double[2 * rows];
        for (int r = 0; r < rows; r++) {
            int base = (r / inner) * classes * inner + r % inner;
            int label = (int) labels[r];
            double max = Double.NEGATIVE_INFINITY;
            int best = -1;
            for (int k = 0; k < classes; k++) {
                if (x[base + k * inner] > max) {
                    max = x[base + k * inner];
                    best = k;
                }
            }
            double sum = 0;
            for (int k = 0; k < classes; k++) {
                sum += Math.exp(x[base + k * inner] - max);
            }
            double shifted = x[base + label * inner] - max;
            y[r] = Math.log(sum) - shifted;
            scale[r] = Math.log(sum) + Math.abs(shifted) + 1;
            y[rows + r] = best == label ? 1 : 0;
        }
        return new OpHarness.Expected(y, scale);
    }

    /** The gradient of the mean loss, multiplied by {@code s}, labels valid class indices. */
    public static OpHarness.Expected gradient(Shape logits, float[] x, float[] labels, float s) {
        int[] d = logits.dims();
        int classes = d[1];
        int inner = 1;
        for (int i = 2; i < d.length; i++) {
            inner *= d[i];
        }
        int rows = d[0] * inner;
        double[] y = new double[x.length];
        double[] scale = new double[x.length];
        for (int r = 0; r < rows; r++) {
            int base = (r / inner) * classes * inner + r % inner;
            int label = (int) labels[r];
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < classes; k++) {
                max = Math.max(max, x[base + k * inner]);
            }
            double sum = 0;
            for (int k = 0; k < classes; k++) {
                sum += Math.exp(x[base + k * inner] - max);
            }
            for (int k = 0; k < classes; k++) {
                int i = base + k * inner;
                double p = Math.exp(x[i] - max) / sum;
                double one = k == label ? 1 : 0;
                y[i] = (p - one) * s;
                scale[i] = (p + one) * s + ActivationRef.FLOOR;
            }
        }
        return new OpHarness.Expected(y, scale);
    }
}
