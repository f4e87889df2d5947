package org.convkit.ops.grad;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.convkit.ops.Activation;
import org.convkit.ops.ActivationOp;
import org.convkit.ops.Binary;
import org.convkit.ops.Dense;
import org.convkit.ops.GlobalPool2d;
import org.convkit.ops.Op;
import org.convkit.ops.SqueezeExcite;
import org.convkit.ops.grad.Gradient.Operand;
import org.convkit.tensor.Shape;

/**
 * One gradient of the fused squeeze-and-excitation block ({@link SqueezeExcite}): with
 * {@code p = mean_hw x}, {@code h = relu(W1 p + b1)}, {@code s = sigmoid(W2 h + b2)} and
 * {@code y = x * s},
 *
 * <pre>
 *   ds = sum_hw dy * x,   dz2 = ds * s (1 - s),   dW2 = dz2^T h,   db2 = sum_n dz2,
 *   dh = dz2 W2,          dz1 = dh * (h > 0),     dW1 = dz1^T p,   db1 = sum_n dz1,
 *   dp = dz1 W1,          dx = dy * s + dp / (H W)
 * </pre>
 *
 * The fused forward keeps none of p, h, s, so each term is a {@link Composite}: it recomputes them
 * with the forward ops of the block's parts (global average pooling, the two dense layers, the
 * sigmoid) and chains the parts' gradient ops, the intermediates in its workspace. Every term reads
 * dy, x and the four parameters.
 */
public final class SqueezeExciteGrad extends GradientOp implements Composite {
    /** Which gradient. */
    public enum Term {
        /** The input's. */
        INPUT("squeeze_excite_grad_data"),
        /** The first dense layer's weight. */
        W1("squeeze_excite_grad_w1"),
        /** The first dense layer's bias. */
        B1("squeeze_excite_grad_b1"),
        /** The second dense layer's weight. */
        W2("squeeze_excite_grad_w2"),
        /** The second dense layer's bias. */
        B2("squeeze_excite_grad_b2");

        private final String opName;

        Term(String opName) {
            this.opName = opName;
        }
    }

    private static final List<Operand> OPERANDS = List.of(Operand.dy(), Operand.input(0), Operand.parameter(0),
            Operand.parameter(1), Operand.parameter(2), Operand.parameter(3));

    private final Term term;
    private final SqueezeExcite.Geometry g;

    public SqueezeExciteGrad(SqueezeExcite se, Shape input, Term term) {
        super(term.opName, se, List.of(input), OPERANDS, term == Term.INPUT ? input
                : se.parameterShapes(List.of(input)).get(term.ordinal() - 1));
        this.term = term;
        this.g = se.geometry(input);
    }

    public Term term() {
        return term;
    }

    @Override
    protected String details() {
        return term.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public Plan plan(List<Shape> inputs) {
        outputShape(inputs);
        int n = g.n();
        int c = g.c();
        int hid = g.hidden();
        Shape x = g.inputShape();
        Shape nc = Shape.of(n, c);
        Shape nc11 = Shape.nchw(n, c, 1, 1);
        Shape nh = Shape.of(n, hid);
        Dense dense1 = Dense.linear(c, hid, true, Activation.RELU);
        Dense dense2 = Dense.linear(hid, c, true, Activation.NONE);
        Composite.Arg dy = new Composite.Arg(0);
        Composite.Arg xa = new Composite.Arg(1);
        List<Shape> temps = new ArrayList<>();
        List<Step> steps = new ArrayList<>();
        Temp p = temp(temps, nc11);
        steps.add(new Step(GlobalPool2d.avg(), List.of(x), List.of(xa), p));
        Temp h = temp(temps, nh);
        steps.add(new Step(dense1, List.of(nc), List.of(p, new Composite.Arg(2), new Composite.Arg(3)), h));
        Temp z = temp(temps, nc);
        steps.add(new Step(dense2, List.of(nh), List.of(h, new Composite.Arg(4), new Composite.Arg(5)), z));
        Temp s = temp(temps, nc);
        steps.add(new Step(ActivationOp.sigmoid(), List.of(nc), List.of(z), s));
        // ds: the gradient of the channel scale in y = x * s, summed over H and W.
        Temp ds = temp(temps, nc11);
        step(steps, Binary.mul().gradients(List.of(x, nc11)).get(1).op(), List.of(dy, xa), ds);
        Temp dz2 = temp(temps, nc);
        step(steps, new ActivationGrad(ActivationOp.sigmoid(), nc), List.of(ds, s), dz2);
        if (term == Term.W2) {
            step(steps, DenseGrad.weight(dense2, nh), List.of(dz2, h), new Composite.Out());
            return new Plan(temps, steps);
        }
        if (term == Term.B2) {
            step(steps, dense2.gradients(List.of(nh)).get(2).op(), List.of(dz2), new Composite.Out());
            return new Plan(temps, steps);
        }
        Temp dh = temp(temps, nh);
        step(steps, DenseGrad.data(dense2, nh), List.of(dz2, new Composite.Arg(4)), dh);
        if (term == Term.W1) {
            step(steps, DenseGrad.weight(dense1, nc), List.of(dh, h, p), new Composite.Out());
            return new Plan(temps, steps);
        }
        if (term == Term.B1) {
            step(steps, dense1.gradients(List.of(nc)).get(2).op(), List.of(dh, h), new Composite.Out());
            return new Plan(temps, steps);
        }
        Temp dp = temp(temps, nc11);
        step(steps, DenseGrad.data(dense1, nc), List.of(dh, h, new Composite.Arg(2)), dp);
        Temp scaled = temp(temps, x);
        steps.add(new Step(Binary.mul(), List.of(x, nc11), List.of(dy, s), scaled));
        Temp spread = temp(temps, x);
        step(steps, Pool2dGrad.of(GlobalPool2d.avg(), x), List.of(dp), spread);
        steps.add(new Step(Binary.add(), List.of(x, x), List.of(scaled, spread), new Composite.Out()));
        return new Plan(temps, steps);
    }

    private static Temp temp(List<Shape> temps, Shape s) {
        temps.add(s);
        return new Temp(temps.size() - 1);
    }

    /** A step running gradient op {@code op} on the operands it names. */
    private static void step(List<Step> steps, Op op, List<Ref> args, Ref out) {
        steps.add(new Step(op, ((GradientOp) op).operandShapes(), args, out));
    }

    /** The forward recomputation (2 per input element and the dense layers) plus the gradient chain (about 4 per element). */
    @Override
    public long flops(List<Shape> inputs) {
        long total = 0;
        for (Step s : plan(inputs).steps()) {
            total += s.op().flops(s.inputShapes());
        }
        return total;
    }
}
