package org.convkit.ops.ref;

import java.util.List;

import org.convkit.tensor.Shape;

/**
 * The concat reference, straight from ONNX's definition: for every output coordinate, find the
 * input whose slice along the axis holds it (inputs in order, each taking the next
 * {@code dim(axis)} indices) and read that input at the same coordinate with the axis index made
 * local. The error scale of a copied element is its own magnitude, {@code max(|y|, floor)}; a
 * correct copy is exact.
 */
public final class ConcatRef {
    /** Relative errors are measured against at least this much. */
    public static final double FLOOR = Float.MIN_NORMAL;

    private ConcatRef() {
    }

    /** Output and per-element error scale, row-major over the output shape. */
    public record Result(double[] y, double[] scale) {
    }

    /** Concatenation of {@code inputs} (shapes and values) along {@code axis} (may be negative). */
    public static Result forward(int axis, List<Shape> shapes, List<float[]> inputs) {
        int rank = shapes.get(0).rank();
        int ax = axis < 0 ? axis + rank : axis;
        int[] out = shapes.get(0).dims();
        out[ax] = 0;
        for (Shape s : shapes) {
            out[ax] += s.dim(ax);
        }
        int count = 1;
        for (int d : out) {
            count *= d;
        }
        double[] y = new double[count];
        double[] scale = new double[count];
        int[] coord = new int[rank];
        for (int i = 0; i < count; i++) {
            int rest = i;
            for (int k = rank - 1; k >= 0; k--) {
                coord[k] = rest % out[k];
                rest /= out[k];
            }
            int which = 0;
            int local = coord[ax];
            while (local >= shapes.get(which).dim(ax)) {
                local -= shapes.get(which).dim(ax);
                which++;
            }
            Shape s = shapes.get(which);
            int idx = 0;
            for (int k = 0; k < rank; k++) {
                idx = idx * s.dim(k) + (k == ax ? local : coord[k]);
            }
            y[i] = inputs.get(which)[idx];
            scale[i] = Math.max(Math.abs(y[i]), FLOOR);
        }
        return new Result(y, scale);
    }
}
