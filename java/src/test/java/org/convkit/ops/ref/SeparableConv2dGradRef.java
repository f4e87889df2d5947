package org.convkit.ops.ref;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.convkit.ops.SeparableConv2d;
import org.convkit.tensor.Shape;
import org.convkit.testing.GradReference;

/**
 * The backward reference of the separable convolution: its two halves as convolutions
 * ({@link Conv2dGradRef} each), the forward {@code pointwise(between(depthwise(x)))} in double and
 * the backward chained through them. The depthwise half's magnitudes take the pointwise half's
 * magnitudes of dt as their dy (with |x| and |w|), so that the tolerance scales with everything the
 * chain adds up. Arguments: x, the depthwise weight [and bias], the pointwise weight [and bias].
 */
public final class SeparableConv2dGradRef implements GradReference {
    private final Conv2dGradRef dw;
    private final Conv2dGradRef pw;
    private final boolean dwBias;
    private final boolean pwBias;

    public SeparableConv2dGradRef(SeparableConv2d op, Shape input) {
        this.dw = new Conv2dGradRef(op.depthwise(input).geometry(input));
        this.pw = new Conv2dGradRef(op.pointwise().geometry(op.intermediateShape(input)));
        this.dwBias = op.hasDepthwiseBias();
        this.pwBias = op.hasPointwiseBias();
    }

    private List<double[]> dwArgs(List<double[]> a) {
        return dwBias ? List.of(a.get(0), a.get(1), a.get(2)) : List.of(a.get(0), a.get(1));
    }

    private List<double[]> pwArgs(List<double[]> a, double[] t) {
        int at = dwBias ? 3 : 2;
        return pwBias ? List.of(t, a.get(at), a.get(at + 1)) : List.of(t, a.get(at));
    }

    @Override
    public double[] forward(List<double[]> args) {
        return pw.forward(pwArgs(args, dw.forward(dwArgs(args))));
    }

    @Override
    public List<Grad> backward(List<double[]> args, double[] y, double[] dy) {
        double[] t = dw.forward(dwArgs(args));
        List<Grad> p = pw.backward(pwArgs(args, t), y, dy);
        Grad dt = p.get(0);
        List<Grad> d = dw.backward(dwArgs(args), t, dt.value());
        List<double[]> absArgs = new ArrayList<>();
        for (double[] a : dwArgs(args)) {
            absArgs.add(Arrays.stream(a).map(Math::abs).toArray());
        }
        List<Grad> dm = dw.backward(absArgs, t, dt.magnitude());
        List<Grad> out = new ArrayList<>();
        for (int i = 0; i < d.size(); i++) {
            out.add(new Grad(d.get(i).value(), dm.get(i).value()));
        }
        out.addAll(p.subList(1, p.size()));
        return out;
    }
}
