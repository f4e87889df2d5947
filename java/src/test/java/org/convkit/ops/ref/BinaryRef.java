package org.convkit.ops.ref;

import org.convkit.ops.Activation;
import org.convkit.ops.Binary;
import org.convkit.tensor.Shape;

/**
 * The add / mul reference, straight from ONNX's broadcasting rule: for every output coordinate,
 * each input is read at the same coordinate with its shape right-aligned to the output's, a
 * missing or size-1 dimension reading index 0. Arithmetic in double; the error scale of an
 * element-wise result is its own magnitude, {@code max(|y|, floor)}.
 */
public final class BinaryRef {
    /**
     * Below this a float32 result may be flushed to zero (OpenCL does not require denormals), so
     * relative errors are measured against at least this much.
     */
    public static final double FLOOR = Float.MIN_NORMAL;

    private BinaryRef() {
    }

    /** Output and per-element error scale, row-major over the output shape. */
    public record Result(double[] y, double[] scale) {
    }

    public static Result forward(Binary.Kind kind, Activation act, Shape aShape, float[] a, Shape bShape, float[] b) {
        int rank = Math.max(aShape.rank(), bShape.rank());
        int[] out = new int[rank];
        for (int k = 0; k < rank; k++) {
            out[k] = Math.max(aligned(aShape, rank, k), aligned(bShape, rank, k));
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
            double va = a[index(aShape, rank, coord)];
            double vb = b[index(bShape, rank, coord)];
            y[i] = act.apply(kind.apply(va, vb));
            scale[i] = Math.max(Math.abs(y[i]), FLOOR);
        }
        return new Result(y, scale);
    }

    /** Dimension k of s right-aligned to rank dimensions; 1 where s has none. */
    private static int aligned(Shape s, int rank, int k) {
        int j = k - (rank - s.rank());
        return j < 0 ? 1 : s.dim(j);
    }

    /** Row-major index into s of the output coordinate, with s's size-1 dimensions read at 0. */
    private static int index(Shape s, int rank, int[] coord) {
        int idx = 0;
        for (int j = 0; j < s.rank(); j++) {
            int c = coord[j + rank - s.rank()];
            idx = idx * s.dim(j) + (s.dim(j) == 1 ? 0 : c);
        }
        return idx;
    }
}
