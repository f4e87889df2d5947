package org.convkit.ops.grad;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Op;
import org.convkit.ops.SeparableConv2d;
import org.convkit.ops.grad.Gradient.Operand;
import org.convkit.tensor.Shape;

/**
 * One gradient of the fused depthwise-separable convolution ({@link SeparableConv2d}): the
 * depthwise result {@code t = between(depthwise(x))} is never stored by the forward, so each term
 * is a {@link Composite} over the two halves as {@link Conv2d}s:
 *
 * <ul>
 *   <li>the pointwise weight: t recomputed, then the pointwise convolution's weight gradient;</li>
 *   <li>the depthwise weight, the depthwise bias and the input: {@code dt}, the pointwise
 *       convolution's data gradient, then the depthwise convolution's gradient from it (masked by
 *       {@code t > 0} when {@code between} is a ReLU, which then needs t recomputed).</li>
 * </ul>
 * (The pointwise bias's gradient is a plain {@link BroadcastSum} of dy.) Each term reads dy (and y
 * under a fused ReLU) and only the forward tensors its chain needs.
 */
public final class SeparableConv2dGrad extends GradientOp implements Composite {
    /** Which gradient. */
    public enum Term {
        /** The input's. */
        INPUT("sepconv2d_grad_data"),
        /** The depthwise weight's. */
        DEPTHWISE_WEIGHT("sepconv2d_grad_depthwise_weight"),
        /** The depthwise bias's. */
        DEPTHWISE_BIAS("sepconv2d_grad_depthwise_bias"),
        /** The pointwise weight's. */
        POINTWISE_WEIGHT("sepconv2d_grad_pointwise_weight");

        private final String opName;

        Term(String opName) {
            this.opName = opName;
        }
    }

    private final Term term;
    private final Conv2d depthwise;
    private final Conv2d pointwise;
    private final Shape input;
    private final Shape mid;
    /** Argument index of each operand the plan uses, -1 where the term does not read it. */
    private final int y;
    private final int x;
    private final int dwWeight;
    private final int dwBias;
    private final int pwWeight;

    private SeparableConv2dGrad(SeparableConv2d op, Shape input, Term term, List<Operand> operands, Shape output) {
        super(term.opName, op, List.of(input), operands, output);
        this.term = term;
        this.input = input;
        this.depthwise = op.depthwise(input);
        this.pointwise = op.pointwise();
        this.mid = op.intermediateShape(input);
        this.y = operands.indexOf(Operand.output());
        this.x = operands.indexOf(Operand.input(0));
        this.dwWeight = operands.indexOf(Operand.parameter(0));
        this.dwBias = op.hasDepthwiseBias() ? operands.indexOf(Operand.parameter(1)) : -1;
        this.pwWeight = operands.indexOf(Operand.parameter(op.hasDepthwiseBias() ? 2 : 1));
    }

    /** The term's gradient op, reading what its chain needs. */
    public static SeparableConv2dGrad of(SeparableConv2d op, Shape input, Term term) {
        boolean relu = op.pointwise().activation() == Activation.RELU;
        boolean recompute = term == Term.POINTWISE_WEIGHT || op.depthwise(input).activation() == Activation.RELU;
        int pw = op.hasDepthwiseBias() ? 2 : 1;
        List<Operand> ops = new ArrayList<>(List.of(Operand.dy()));
        if (relu) {
            ops.add(Operand.output());
        }
        if (recompute || term == Term.DEPTHWISE_WEIGHT) {
            ops.add(Operand.input(0));
        }
        if (recompute || term == Term.INPUT) {
            ops.add(Operand.parameter(0));
        }
        if (recompute && op.hasDepthwiseBias()) {
            ops.add(Operand.parameter(1));
        }
        if (term != Term.POINTWISE_WEIGHT) {
            ops.add(Operand.parameter(pw));
        }
        List<Shape> params = op.parameterShapes(List.of(input));
        Shape out = switch (term) {
            case INPUT -> input;
            case DEPTHWISE_WEIGHT -> params.get(0);
            case DEPTHWISE_BIAS -> params.get(1);
            case POINTWISE_WEIGHT -> params.get(pw);
        };
        return new SeparableConv2dGrad(op, input, term, ops, out);
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
        List<Shape> temps = new ArrayList<>();
        List<Step> steps = new ArrayList<>();
        boolean betweenRelu = depthwise.activation() == Activation.RELU;
        Ref t = null;
        if (term == Term.POINTWISE_WEIGHT || betweenRelu) {
            temps.add(mid);
            t = new Temp(temps.size() - 1);
            List<Ref> args = new ArrayList<>(List.of(new Arg(x), new Arg(dwWeight)));
            if (dwBias >= 0) {
                args.add(new Arg(dwBias));
            }
            steps.add(new Step(depthwise, List.of(input), args, t));
        }
        List<Ref> dz = new ArrayList<>(List.of(new Arg(0)));
        if (y >= 0) {
            dz.add(new Arg(y));
        }
        if (term == Term.POINTWISE_WEIGHT) {
            dz.add(t);
            step(steps, Conv2dGrad.weight(pointwise, mid), dz, new Out());
            return new Plan(temps, steps);
        }
        temps.add(mid);
        Ref dt = new Temp(temps.size() - 1);
        dz.add(new Arg(pwWeight));
        step(steps, Conv2dGrad.data(pointwise, mid), dz, dt);
        List<Ref> ddt = new ArrayList<>(List.of(dt));
        if (betweenRelu) {
            ddt.add(t);
        }
        switch (term) {
            case DEPTHWISE_BIAS -> step(steps, depthwise.gradients(List.of(input)).get(2).op(), ddt, new Out());
            case DEPTHWISE_WEIGHT -> {
                ddt.add(new Arg(x));
                step(steps, Conv2dGrad.weight(depthwise, input), ddt, new Out());
            }
            default -> {
                ddt.add(new Arg(dwWeight));
                step(steps, Conv2dGrad.data(depthwise, input), ddt, new Out());
            }
        }
        return new Plan(temps, steps);
    }

    private static void step(List<Step> steps, Op op, List<Ref> args, Ref out) {
        steps.add(new Step(op, ((GradientOp) op).operandShapes(), args, out));
    }

    /** The steps' FLOPs: the recomputed depthwise result where needed, then the gradient chain. */
    @Override
    public long flops(List<Shape> inputs) {
        long total = 0;
        for (Step s : plan(inputs).steps()) {
            total += s.op().flops(s.inputShapes());
        }
        return total;
    }
}
