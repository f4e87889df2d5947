package org.convkit.ops.ref;

import java.util.Arrays;
import java.util.List;

import org.convkit.ops.PRelu;
import org.convkit.tensor.Shape;
import org.convkit.testing.GradReference;

/**
 * The backward reference of PReLU: {@code y = x < 0 ? slope * x : x} with the slope aligned to the
 * input's last dimensions (ONNX unidirectional broadcast), in double;
 * {@code dx = x < 0 ? slope * dy : dy} and {@code dslope[j] = sum over the elements j reaches of
 * dy * min(x, 0)}.
 */
public final class PReluGradRef implements GradReference {
    private final Shape input;
    private final Shape slope;

    public PReluGradRef(PRelu op, Shape input) {
        this.input = input;
        this.slope = op.slopeShape();
    }

    /** The slope element input element {@code i} uses. */
    private int slopeIndex(int i) {
        int idx = 0;
        int stride = 1;
        for (int k = input.rank() - 1; k >= 0; k--) {
            int digit = i % input.dim(k);
            i /= input.dim(k);
            int j = k - (input.rank() - slope.rank());
            if (j >= 0) {
                if (slope.dim(j) != 1) {
                    idx += digit * stride;
                }
                stride *= slope.dim(j);
            }
        }
        return idx;
    }

    @Override
    public double[] forward(List<double[]> args) {
        double[] x = args.get(0);
        double[] a = args.get(1);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i] < 0 ? a[slopeIndex(i)] * x[i] : x[i];
        }
        return y;
    }

    @Override
    public List<Grad> backward(List<double[]> args, double[] y, double[] dy) {
        double[] x = args.get(0);
        double[] a = args.get(1);
        double[] dx = new double[x.length];
        double[] da = new double[a.length];
        double[] ma = new double[a.length];
        for (int i = 0; i < x.length; i++) {
            int j = slopeIndex(i);
            dx[i] = x[i] < 0 ? a[j] * dy[i] : dy[i];
            double t = dy[i] * Math.min(x[i], 0);
            da[j] += t;
            ma[j] += Math.abs(t);
        }
        return Arrays.asList(new Grad(dx, Arrays.stream(dx).map(Math::abs).toArray()), new Grad(da, ma));
    }
}
