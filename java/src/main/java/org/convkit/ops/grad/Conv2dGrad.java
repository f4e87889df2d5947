package org.convkit.ops.grad;

import java.util.ArrayList;
import java.util.List;

import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.ops.ConvTranspose2d;
import org.convkit.ops.Op;
import org.convkit.ops.grad.Gradient.Operand;
import org.convkit.tensor.Shape;

/**
 * The data and weight gradients of a convolution ({@link Conv2d}) and of a transposed convolution
 * ({@link ConvTranspose2d}). Both ops relate a "small" tensor S and a "large" tensor L through the
 * same taps (see {@link Relation}): a convolution's output is S and its input L; a transposed
 * convolution's input is S and its output L. Their weights share the layout
 * {@code [S channels, L channels / groups, kH, kW]}. So three kernels serve both ops:
 *
 * <ul>
 *   <li>{@link Form#LARGE}: the gradient on L from one on S:
 *       {@code out[n,l,i,j] = sum over (f, r, s) of S[n,f,a,b] * w[f, l mod Lg, r, s]} over the taps
 *       with {@code i = a*sh - pt + r*dh}, {@code j = b*sw - pl + s*dw} (a convolution's data
 *       gradient);</li>
 *   <li>{@link Form#SMALL}: the gradient on S from one on L:
 *       {@code out[n,f,a,b] = sum over (q, r, s) of L[n, g(f)*Lg + q, a*sh - pt + r*dh, ...] * w[f,q,r,s]}
 *       (a transposed convolution's data gradient: a convolution with its pads, which may be
 *       negative);</li>
 *   <li>{@link Form#WEIGHT}: {@code dw[f,q,r,s] = sum over (n, a, b) of S[n,f,a,b] * L[n, g(f)*Lg + q, ...]}.</li>
 * </ul>
 * Every kernel gathers (one output element per sum, in a fixed order: no atomics, deterministic).
 * A fused ReLU is undone on the way: the output gradient is masked by {@code y > 0}, so the op
 * then also reads y. Operands: {@code dy, [y], w} for the data gradients, {@code dy, [y], x} for the
 * weight gradients. The bias gradient is a {@link BroadcastSum}.
 *
 * <p>FLOPs: 2 per multiply-add of the forward op, as each gradient visits every tap once.
 */
public final class Conv2dGrad extends GradientOp {
    /** Which tensor the gradient is computed for. */
    public enum Form {
        /** The large side's data (a convolution's input). */
        LARGE,
        /** The small side's data (a transposed convolution's input). */
        SMALL,
        /** The weight. */
        WEIGHT
    }

    /**
     * The taps relating S and L: S element {@code (n, f, a, b)}, with {@code f} in group
     * {@code g = f / (sc / groups)}, meets L element {@code (n, g * lc / groups + q, a*sh - pt + r*dh,
     * b*sw - pl + s*dw)} through weight {@code [f, q, r, s]}, for the pairs inside L.
     */
    public record Relation(int n, int sc, int sh, int sw, int lc, int lh, int lw, int kh, int kw, int strideH,
            int strideW, int dilationH, int dilationW, int padTop, int padLeft, int groups) {
        /** S channels per group. */
        public int scPerGroup() {
            return sc / groups;
        }

        /** L channels per group. */
        public int lcPerGroup() {
            return lc / groups;
        }

        public Shape smallShape() {
            return Shape.nchw(n, sc, sh, sw);
        }

        public Shape largeShape() {
            return Shape.nchw(n, lc, lh, lw);
        }

        public Shape weightShape() {
            return Shape.of(sc, lcPerGroup(), kh, kw);
        }

        /** Multiply-adds of one pass: S positions times taps times L channels per group, the taps inside L. */
        public long macs() {
            return (long) n * sc * lcPerGroup() * inside(sh, lh, kh, strideH, dilationH, padTop)
                    * inside(sw, lw, kw, strideW, dilationW, padLeft);
        }

        private static long inside(int small, int large, int taps, int s, int d, int pad) {
            long count = 0;
            for (int k = 0; k < taps; k++) {
                long offset = (long) k * d - pad;
                long lo = Math.max(0, Math.ceilDiv(-offset, s));
                long hi = Math.min(small - 1L, Math.floorDiv(large - 1 - offset, s));
                count += Math.max(0, hi - lo + 1);
            }
            return count;
        }
    }

    private final Relation relation;
    private final Form form;
    private final boolean masked;
    private final boolean transposed;

    private Conv2dGrad(String name, Op forward, Shape input, Relation relation, Form form, Activation activation,
            boolean transposed, Shape output) {
        super(name, forward, List.of(input), operands(activation, form), output);
        this.relation = relation;
        this.form = form;
        this.masked = activation == Activation.RELU;
        this.transposed = transposed;
    }

    private static List<Operand> operands(Activation activation, Form form) {
        List<Operand> ops = new ArrayList<>(List.of(Operand.dy()));
        if (activation == Activation.RELU) {
            ops.add(Operand.output());
        }
        ops.add(form == Form.WEIGHT ? Operand.input(0) : Operand.parameter(0));
        return ops;
    }

    /** The relation of a convolution: S is its output, L its input. */
    public static Relation relation(Conv2d.Geometry g) {
        return new Relation(g.n(), g.oc(), g.oh(), g.ow(), g.c(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(), g.dh(),
                g.dw(), g.padTop(), g.padLeft(), g.groups());
    }

    /** The relation of a transposed convolution: S is its input, L its output. */
    public static Relation relation(ConvTranspose2d.Geometry g) {
        return new Relation(g.n(), g.c(), g.h(), g.w(), g.oc(), g.oh(), g.ow(), g.kh(), g.kw(), g.sh(), g.sw(), g.dh(),
                g.dw(), g.padTop(), g.padLeft(), g.groups());
    }

    /** A convolution's input gradient: {@code conv2d_grad_data}, reading dy, [y], the weight. */
    public static Conv2dGrad data(Conv2d conv, Shape input) {
        Conv2d.Geometry g = conv.geometry(input);
        return new Conv2dGrad("conv2d_grad_data", conv, input, relation(g), Form.LARGE, g.activation(), false, input);
    }

    /** A convolution's weight gradient: {@code conv2d_grad_weight}, reading dy, [y], the input. */
    public static Conv2dGrad weight(Conv2d conv, Shape input) {
        Conv2d.Geometry g = conv.geometry(input);
        return new Conv2dGrad("conv2d_grad_weight", conv, input, relation(g), Form.WEIGHT, g.activation(), false,
                g.weightShape());
    }

    /** A transposed convolution's input gradient: {@code conv_transpose2d_grad_data}, reading dy, [y], the weight. */
    public static Conv2dGrad data(ConvTranspose2d conv, Shape input) {
        ConvTranspose2d.Geometry g = conv.geometry(input);
        return new Conv2dGrad("conv_transpose2d_grad_data", conv, input, relation(g), Form.SMALL, g.activation(), true,
                input);
    }

    /** A transposed convolution's weight gradient: {@code conv_transpose2d_grad_weight}, reading dy, [y], the input. */
    public static Conv2dGrad weight(ConvTranspose2d conv, Shape input) {
        ConvTranspose2d.Geometry g = conv.geometry(input);
        return new Conv2dGrad("conv_transpose2d_grad_weight", conv, input, relation(g), Form.WEIGHT, g.activation(),
                true, g.weightShape());
    }

    public Relation relation() {
        return relation;
    }

    public Form form() {
        return form;
    }

    /** Whether dy is masked by a fused ReLU (operand 1 is then the forward output). */
    public boolean masked() {
        return masked;
    }

    /** Whether the forward op is a transposed convolution: dy is then on the large side. */
    public boolean transposed() {
        return transposed;
    }

    @Override
    public long flops(List<Shape> inputs) {
        outputShape(inputs);
        return 2 * relation.macs();
    }
}
