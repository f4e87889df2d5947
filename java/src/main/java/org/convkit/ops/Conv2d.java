package org.convkit.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.convkit.ops.grad.BroadcastSum;
import org.convkit.ops.grad.Conv2dGrad;
import org.convkit.ops.grad.Gradient;
import org.convkit.tensor.Shape;

/**
 * 2-D convolution (cross-correlation, as every framework computes it) on NCHW input.
 *
 * <p>Weights are {@code [outChannels, inChannels / groups, kernelH, kernelW]} (ONNX and PyTorch
 * order), bias {@code [outChannels]}. With {@code groups == inChannels} it is a depthwise
 * convolution, and {@code outChannels = k * inChannels} gives a channel multiplier of k. Output
 * channel {@code o} of group {@code g = o / (outChannels / groups)} reads input channels
 * {@code g * inChannels / groups} up to the next group. A fused {@link Activation} is applied
 * after the bias.
 *
 * <p>FLOPs count 2 per multiply-add; bias and activation are not counted.
 */
public final class Conv2d implements Op {
    private final int outChannels;
    private final int kernelH;
    private final int kernelW;
    private final int strideH;
    private final int strideW;
    private final int dilationH;
    private final int dilationW;
    private final int groups;
    private final boolean bias;
    private final Padding padding;
    private final Activation activation;

    private Conv2d(Builder b) {
        this.outChannels = b.outChannels;
        this.kernelH = b.kernelH;
        this.kernelW = b.kernelW;
        this.strideH = b.strideH;
        this.strideW = b.strideW;
        this.dilationH = b.dilationH;
        this.dilationW = b.dilationW;
        this.groups = b.groups;
        this.bias = b.bias;
        this.padding = b.padding;
        this.activation = b.activation;
        positive("outChannels", outChannels);
        positive("kernelH", kernelH);
        positive("kernelW", kernelW);
        positive("strideH", strideH);
        positive("strideW", strideW);
        positive("dilationH", dilationH);
        positive("dilationW", dilationW);
        positive("groups", groups);
        if (outChannels % groups != 0) {
            throw new IllegalArgumentException("conv2d: outChannels " + outChannels + " is not divisible by groups " + groups);
        }
        if (padding == null) {
            throw new IllegalArgumentException("conv2d: padding must not be null");
        }
        if (activation == null) {
            throw new IllegalArgumentException("conv2d: activation must not be null (use Activation.NONE)");
        }
    }

    private static void positive(String param, int v) {
        if (v < 1) {
            throw new IllegalArgumentException("conv2d: " + param + " must be positive, got " + v);
        }
    }

    /** A builder for a convolution with {@code outChannels} output channels (a 1x1 kernel, stride 1, VALID, bias, no activation until set). */
    public static Builder builder(int outChannels) {
        return new Builder(outChannels);
    }

    /**
     * The convolution resolved for one input shape: every size and pad the kernels and the
     * references need, validated.
     */
    public record Geometry(int n, int c, int h, int w, int oc, int oh, int ow, int kh, int kw, int sh, int sw,
            int dh, int dw, int padTop, int padLeft, int padBottom, int padRight, int groups, boolean bias,
            Activation activation) {
        /** Input channels per group. */
        public int cPerGroup() {
            return c / groups;
        }

        /** Output channels per group. */
        public int ocPerGroup() {
            return oc / groups;
        }

        /** Multiply-adds that produce one output element. */
        public long macsPerOutput() {
            return (long) cPerGroup() * kh * kw;
        }

        public Shape inputShape() {
            return Shape.nchw(n, c, h, w);
        }

        public Shape outputShape() {
            return Shape.nchw(n, oc, oh, ow);
        }

        public Shape weightShape() {
            return Shape.of(oc, cPerGroup(), kh, kw);
        }
    }

    /** Resolves and validates this convolution for an NCHW input. */
    public Geometry geometry(Shape input) {
        Objects.requireNonNull(input, "conv2d: input shape");
        if (input.rank() != 4) {
            throw new IllegalArgumentException("conv2d: input must be NCHW (rank 4), got shape " + input + " of rank "
                    + input.rank());
        }
        int c = input.c();
        if (c % groups != 0) {
            throw new IllegalArgumentException("conv2d: input channels " + c + " are not divisible by groups " + groups
                    + " (input " + input + ")");
        }
        int[] rows = padding.resolve("conv2d", 0, input.h(), kernelH, strideH, dilationH);
        int[] cols = padding.resolve("conv2d", 1, input.w(), kernelW, strideW, dilationW);
        Geometry g = new Geometry(input.n(), c, input.h(), input.w(), outChannels, rows[2], cols[2], kernelH, kernelW,
                strideH, strideW, dilationH, dilationW, rows[0], cols[0], rows[1], cols[1], groups, bias, activation);
        // Shape's constructor checks that the element counts fit in a long.
        g.outputShape();
        g.weightShape();
        return g;
    }

    /** Output shape for one NCHW input. */
    public Shape outputShape(Shape input) {
        return geometry(input).outputShape();
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        return outputShape(inputs.get(0));
    }

    /** Weight shape {@code [outChannels, inChannels / groups, kernelH, kernelW]} for this input. */
    public Shape weightShape(Shape input) {
        return geometry(input).weightShape();
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        requireArity(inputs);
        List<Shape> shapes = new ArrayList<>(2);
        shapes.add(weightShape(inputs.get(0)));
        if (bias) {
            shapes.add(Shape.of(outChannels));
        }
        return List.copyOf(shapes);
    }

    @Override
    public List<String> parameterNames(List<Shape> inputs) {
        return bias ? List.of("weight", "bias") : List.of("weight");
    }

    /** Learned parameters for one input: weights plus one bias per output channel. */
    public long parameterCount(Shape input) {
        return parameterCount(List.of(input));
    }

    @Override
    public long flops(List<Shape> inputs) {
        requireArity(inputs);
        return flops(inputs.get(0));
    }

    /** FLOPs of one run on this input: 2 * N * OC * OH * OW * (C / groups) * KH * KW. */
    public long flops(Shape input) {
        Geometry g = geometry(input);
        try {
            return Math.multiplyExact(Math.multiplyExact(2L, g.outputShape().elementCount()), g.macsPerOutput());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("conv2d: FLOP count of " + describe(input) + " overflows a long", e);
        }
    }

    /**
     * The input gradient ({@link Conv2dGrad#data}), the weight gradient ({@link Conv2dGrad#weight})
     * and, with a bias, its gradient (dy summed over N, H and W); each also reads the output when a
     * ReLU is fused, to undo it.
     */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        requireArity(inputs);
        Shape in = inputs.get(0);
        List<Gradient> g = new ArrayList<>(3);
        g.add(Conv2dGrad.data(this, in).ofInput(0));
        g.add(Conv2dGrad.weight(this, in).ofParameter(0));
        if (bias) {
            g.add(BroadcastSum.of("conv2d_grad_bias", this, inputs, Shape.of(outChannels))
                    .aligned(Shape.nchw(1, outChannels, 1, 1)).masked(activation == Activation.RELU).build().ofParameter(1));
        }
        return g;
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        return describe(inputs.get(0));
    }

    /** The case as a string, e.g. {@code conv2d(n=2,c=7,h=13,w=9,oc=8,k=3,s=2,same)}. */
    public String describe(Shape input) {
        StringBuilder sb = new StringBuilder("conv2d(");
        if (input.rank() == 4) {
            sb.append("n=").append(input.n()).append(",c=").append(input.c()).append(",h=").append(input.h())
                    .append(",w=").append(input.w()).append(',');
        } else {
            sb.append("in=").append(input).append(',');
        }
        sb.append(hyperParameters()).append(')');
        return sb.toString();
    }

    private String hyperParameters() {
        StringBuilder sb = new StringBuilder();
        sb.append("oc=").append(outChannels).append(",k=").append(pair(kernelH, kernelW)).append(",s=")
                .append(pair(strideH, strideW));
        if (dilationH != 1 || dilationW != 1) {
            sb.append(",d=").append(pair(dilationH, dilationW));
        }
        if (groups != 1) {
            sb.append(",g=").append(groups);
        }
        sb.append(',').append(padding.id());
        if (!bias) {
            sb.append(",nobias");
        }
        if (activation != Activation.NONE) {
            sb.append(',').append(activation.id());
        }
        return sb.toString();
    }

    private static String pair(int a, int b) {
        return a == b ? Integer.toString(a) : a + "x" + b;
    }

    @Override
    public String name() {
        return "conv2d";
    }

    public int outChannels() {
        return outChannels;
    }

    public int kernelH() {
        return kernelH;
    }

    public int kernelW() {
        return kernelW;
    }

    public int strideH() {
        return strideH;
    }

    public int strideW() {
        return strideW;
    }

    public int dilationH() {
        return dilationH;
    }

    public int dilationW() {
        return dilationW;
    }

    public int groups() {
        return groups;
    }

    public boolean hasBias() {
        return bias;
    }

    public Padding padding() {
        return padding;
    }

    public Activation activation() {
        return activation;
    }

    /** A builder initialised with this convolution's settings. */
    public Builder toBuilder() {
        Builder b = new Builder(outChannels);
        b.kernelH = kernelH;
        b.kernelW = kernelW;
        b.strideH = strideH;
        b.strideW = strideW;
        b.dilationH = dilationH;
        b.dilationW = dilationW;
        b.groups = groups;
        b.bias = bias;
        b.padding = padding;
        b.activation = activation;
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Conv2d c && c.outChannels == outChannels && c.kernelH == kernelH && c.kernelW == kernelW
                && c.strideH == strideH && c.strideW == strideW && c.dilationH == dilationH && c.dilationW == dilationW
                && c.groups == groups && c.bias == bias && c.padding.equals(padding) && c.activation == activation;
    }

    @Override
    public int hashCode() {
        return Objects.hash(outChannels, kernelH, kernelW, strideH, strideW, dilationH, dilationW, groups, bias, padding,
                activation);
    }

    @Override
    public String toString() {
        return "conv2d(" + hyperParameters() + ")";
    }

    /** Builds a {@link Conv2d}; {@link #build()} validates every setting. */
    public static final class Builder {
        private final int outChannels;
        private int kernelH = 1;
        private int kernelW = 1;
        private int strideH = 1;
        private int strideW = 1;
        private int dilationH = 1;
        private int dilationW = 1;
        private int groups = 1;
        private boolean bias = true;
        private Padding padding = Padding.VALID;
        private Activation activation = Activation.NONE;

        private Builder(int outChannels) {
            this.outChannels = outChannels;
        }

        /** Square kernel. */
        public Builder kernel(int k) {
            return kernel(k, k);
        }

        public Builder kernel(int kh, int kw) {
            this.kernelH = kh;
            this.kernelW = kw;
            return this;
        }

        /** The same stride on both axes. */
        public Builder stride(int s) {
            return stride(s, s);
        }

        public Builder stride(int sh, int sw) {
            this.strideH = sh;
            this.strideW = sw;
            return this;
        }

        /** The same dilation on both axes. */
        public Builder dilation(int d) {
            return dilation(d, d);
        }

        public Builder dilation(int dh, int dw) {
            this.dilationH = dh;
            this.dilationW = dw;
            return this;
        }

        /** Groups; equal to the input channels for a depthwise convolution. */
        public Builder groups(int g) {
            this.groups = g;
            return this;
        }

        public Builder bias(boolean b) {
            this.bias = b;
            return this;
        }

        public Builder padding(Padding p) {
            this.padding = p;
            return this;
        }

        public Builder activation(Activation a) {
            this.activation = a;
            return this;
        }

        public Conv2d build() {
            return new Conv2d(this);
        }
    }
}
