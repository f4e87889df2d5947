package org.convkit.ops.ref;

import java.util.ArrayList;
import java.util.List;

import org.convkit.ops.Concat;
import org.convkit.testing.GradReference;

/**
 * The backward reference of concat: the forward copies each input's rows into its columns of the
 * output's rows; each input's gradient is its columns of dy.
 */
public final class ConcatGradRef implements GradReference {
    private final Concat.Geometry g;

    public ConcatGradRef(Concat.Geometry g) {
        this.g = g;
    }

    @Override
    public double[] forward(List<double[]> args) {
        double[] y = new double[(int) (g.outer() * g.outInner())];
        for (int i = 0; i < g.inputCount(); i++) {
            for (long r = 0; r < g.outer(); r++) {
                for (long k = 0; k < g.inner(i); k++) {
                    y[(int) (r * g.outInner() + g.offset(i) + k)] = args.get(i)[(int) (r * g.inner(i) + k)];
                }
            }
        }
        return y;
    }

    @Override
    public List<Grad> backward(List<double[]> args, double[] y, double[] dy) {
        List<Grad> out = new ArrayList<>();
        for (int i = 0; i < g.inputCount(); i++) {
            double[] dx = new double[(int) (g.outer() * g.inner(i))];
            double[] m = new double[dx.length];
            for (long r = 0; r < g.outer(); r++) {
                for (long k = 0; k < g.inner(i); k++) {
                    int at = (int) (r * g.inner(i) + k);
                    dx[at] = dy[(int) (r * g.outInner() + g.offset(i) + k)];
                    m[at] = Math.abs(dx[at]);
                }
            }
            out.add(new Grad(dx, m));
        }
        return out;
    }
}
