package org.convkit.ops.ref;

import org.convkit.tensor.Shape;

/**
 * The reshape reference, from the ONNX definition ({@code allowzero = 0}): the output shape worked
 * out on its own (0 copies the input's dimension, -1 takes what is left), and the output element
 * with multi-index I read from the input element whose multi-index has the same row-major rank as
 * I. The error scale is 1 for every element, so a tolerance of 0 demands a bit-exact copy.
 */
public final class ReshapeRef {
    private ReshapeRef() {
    }

    /** Output shape, values and per-element scale. */
    public record Result(Shape shape, double[] y, double[] scale) {
    }

    public static Result forward(Shape input, int[] target, float[] x) {
        int[] in = input.dims();
        int[] out = target.clone();
        int total = 1;
        for (int v : in) {
            total *= v;
        }
        int rest = total;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == 0) {
                out[i] = in[i];
            }
            if (out[i] != -1) {
                rest /= out[i];
            }
        }
        for (int i = 0; i < out.length; i++) {
            if (out[i] == -1) {
                out[i] = rest;
            }
        }
        double[] y = new double[total];
        double[] s = new double[total];
        int[] oi = new int[out.length];
        int[] ii = new int[in.length];
        for (int o = 0; o < total; o++) {
            // Output multi-index of o, its row-major rank, that rank's input multi-index, its offset.
            int r = o;
            for (int q = out.length - 1; q >= 0; q--) {
                oi[q] = r % out[q];
                r /= out[q];
            }
            int rank = 0;
            for (int q = 0; q < out.length; q++) {
                rank = rank * out[q] + oi[q];
            }
            for (int q = in.length - 1; q >= 0; q--) {
                ii[q] = rank % in[q];
                rank /= in[q];
            }
            int off = 0;
            for (int q = 0; q < in.length; q++) {
                off = off * in[q] + ii[q];
            }
            y[o] = x[off];
            s[o] = 1;
        }
        return new Result(Shape.of(out), y, s);
    }
}
