package org.convkit.ops.ref;

import org.convkit.tensor.Shape;

/**
 * The flatten reference, from the ONNX definition: the output shape
 * {@code [d0 * ... * d(axis-1), d(axis) * ... * d(r-1)]} worked out on its own (not by asking
 * the descriptor), and the output element {@code (i, j)} read from the input element whose
 * multi-index has row-major rank {@code i * inner + j}. The error scale is 1 for every element,
 * so a tolerance of 0 demands a bit-exact copy.
 */
public final class FlattenRef {
    private FlattenRef() {
    }

    /** Output shape, values and per-element scale. */
    public record Result(Shape shape, double[] y, double[] scale) {
    }

    public static Result forward(Shape input, int axis, float[] x) {
        int[] d = input.dims();
        int a = axis < 0 ? axis + d.length : axis;
        int outer = 1;
        for (int i = 0; i < a; i++) {
            outer *= d[i];
        }
        int inner = 1;
        for (int i = a; i < d.length; i++) {
            inner *= d[i];
        }
        double[] y = new double[outer * inner];
        double[] s = new double[y.length];
        int[] idx = new int[d.length];
        for (int i = 0; i < outer; i++) {
            for (int j = 0; j < inner; j++) {
                // The input multi-index of flat rank i * inner + j, then its offset in the input.
                int rank = i * inner + j;
                for (int q = d.length - 1; q >= 0; q--) {
                    idx[q] = rank % d[q];
                    rank /= d[q];
                }
                int off = 0;
                for (int q = 0; q < d.length; q++) {
                    off = off * d[q] + idx[q];
                }
                y[i * inner + j] = x[off];
                s[i * inner + j] = 1;
            }
        }
        return new Result(Shape.of(outer, inner), y, s);
    }
}
