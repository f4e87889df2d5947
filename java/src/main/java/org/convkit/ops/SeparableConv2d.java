package org.convkit.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.convkit.ops.grad.BroadcastSum;
import org.convkit.ops.grad.Gradient;
import org.convkit.ops.grad.SeparableConv2dGrad;
import org.convkit.tensor.Shape;

/**
 * Depthwise-separable convolution (Xception, MobileNet): a depthwise convolution (one
 * {@code kernelH x kernelW} filter per input channel, {@code multiplier} filters per channel),
 * then a 1x1 pointwise convolution across all {@code C * multiplier} channels to
 * {@code outChannels}.
 *
 * <p>Run as one op, the depthwise result never goes to device memory: each tile of output pixels
 * computes it into local memory (OpenCL) or a per-thread scratch row (CPU) and consumes it at
 * once. {@link #depthwise()} and {@link #pointwise()} give the same computation as two
 * {@link Conv2d}s. Parameters in order: depthwise weight {@code [C*m, 1, kH, kW]}, depthwise bias
 * {@code [C*m]} (optional, off by default as in Keras), pointwise weight {@code [OC, C*m, 1, 1]},
 * pointwise bias {@code [OC]} (optional, on by default). {@code between} is applied to the
 * depthwise result (Xception uses none), {@code activation} to the output.
 */
public final class SeparableConv2d implements Op {
    private final int outChannels;
    private final int kernelH;
    private final int kernelW;
    private final int strideH;
    private final int strideW;
    private final int dilationH;
    private final int dilationW;
    private final int multiplier;
    private final Padding padding;
    private final boolean depthwiseBias;
    private final boolean pointwiseBias;
    private final Activation between;
    private final Activation activation;

    private SeparableConv2d(Builder b) {
        this.outChannels = b.outChannels;
        this.kernelH = b.kernelH;
        this.kernelW = b.kernelW;
        this.strideH = b.strideH;
        this.strideW = b.strideW;
        this.dilationH = b.dilationH;
        this.dilationW = b.dilationW;
        this.multiplier = b.multiplier;
        this.padding = b.padding;
        this.depthwiseBias = b.depthwiseBias;
        this.pointwiseBias = b.pointwiseBias;
        this.between = b.between;
        this.activation = b.activation;
        positive("outChannels", outChannels);
        positive("multiplier", multiplier);
        if (padding == null || between == null || activation == null) {
            throw new IllegalArgumentException("sepconv2d: padding and activations must not be null");
        }
        // The depthwise half validates kernel, stride and dilation with their own names.
        depthwiseFor(1);
    }

    private static void positive(String param, int v) {
        if (v < 1) {
            throw new IllegalArgumentException("sepconv2d: " + param + " must be positive, got " + v);
        }
    }

    /** A builder for {@code outChannels} outputs (3x3 kernel, stride 1, SAME, multiplier 1, pointwise bias). */
    public static Builder builder(int outChannels) {
        return new Builder(outChannels);
    }

    private Conv2d depthwiseFor(int channels) {
        try {
            return Conv2d.builder(channels * multiplier).kernel(kernelH, kernelW).stride(strideH, strideW)
                    .dilation(dilationH, dilationW).groups(channels).padding(padding).bias(depthwiseBias)
                    .activation(between).build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("sepconv2d: depthwise half: " + e.getMessage(), e);
        }
    }

    /** The depthwise half as a convolution for this input (groups = channels). */
    public Conv2d depthwise(Shape input) {
        requireNchw(input);
        return depthwiseFor(input.c());
    }

    /** The pointwise half as a 1x1 convolution. */
    public Conv2d pointwise() {
        return Conv2d.builder(outChannels).kernel(1).bias(pointwiseBias).activation(activation).build();
    }

    private static void requireNchw(Shape input) {
        Objects.requireNonNull(input, "sepconv2d: input shape");
        if (input.rank() != 4) {
            throw new IllegalArgumentException("sepconv2d: input must be NCHW (rank 4), got shape " + input + " of rank "
                    + input.rank());
        }
    }

    /** The depthwise result's shape (never stored when run fused). */
    public Shape intermediateShape(Shape input) {
        Conv2d dw = depthwise(input);
        try {
            return dw.outputShape(input);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("sepconv2d: depthwise half: " + e.getMessage(), e);
        }
    }

    @Override
    public String name() {
        return "sepconv2d";
    }

    /** Output shape for one NCHW input. */
    public Shape outputShape(Shape input) {
        return pointwise().outputShape(intermediateShape(input));
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        return outputShape(inputs.get(0));
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        requireArity(inputs);
        Shape in = inputs.get(0);
        Shape mid = intermediateShape(in);
        List<Shape> out = new ArrayList<>(depthwise(in).parameterShapes(List.of(in)));
        out.addAll(pointwise().parameterShapes(List.of(mid)));
        return List.copyOf(out);
    }

    @Override
    public List<String> parameterNames(List<Shape> inputs) {
        List<String> names = new ArrayList<>();
        names.add("depthwise_weight");
        if (depthwiseBias) {
            names.add("depthwise_bias");
        }
        names.add("pointwise_weight");
        if (pointwiseBias) {
            names.add("pointwise_bias");
        }
        return List.copyOf(names);
    }

    @Override
    public void initParameter(List<Shape> inputs, int index, org.convkit.tensor.Tensor t, long seed) {
        // Both weights (rank 4) get He-uniform from their own fan-in; biases +-0.1.
        if (t.shape().rank() == 4) {
            Op.heUniform(t, seed);
        } else {
            t.fillUniform(seed, -0.1f, 0.1f);
        }
    }

    @Override
    public long flops(List<Shape> inputs) {
        requireArity(inputs);
        Shape in = inputs.get(0);
        return depthwise(in).flops(in) + pointwise().flops(intermediateShape(in));
    }

    /**
     * The gradients of the input, the depthwise weight (and bias) and the pointwise weight, each a
     * {@link SeparableConv2dGrad} over the two halves (the depthwise result is recomputed where a term
     * needs it), and of the pointwise bias, dy summed over N, H and W.
     */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        requireArity(inputs);
        Shape in = inputs.get(0);
        List<Gradient> g = new ArrayList<>();
        g.add(SeparableConv2dGrad.of(this, in, SeparableConv2dGrad.Term.INPUT).ofInput(0));
        g.add(SeparableConv2dGrad.of(this, in, SeparableConv2dGrad.Term.DEPTHWISE_WEIGHT).ofParameter(0));
        int pw = 1;
        if (depthwiseBias) {
            g.add(SeparableConv2dGrad.of(this, in, SeparableConv2dGrad.Term.DEPTHWISE_BIAS).ofParameter(1));
            pw = 2;
        }
        g.add(SeparableConv2dGrad.of(this, in, SeparableConv2dGrad.Term.POINTWISE_WEIGHT).ofParameter(pw));
        if (pointwiseBias) {
            g.add(BroadcastSum.of("sepconv2d_grad_pointwise_bias", this, inputs, Shape.of(outChannels))
                    .aligned(Shape.nchw(1, outChannels, 1, 1)).masked(activation == Activation.RELU).build()
                    .ofParameter(pw + 1));
        }
        return g;
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        Shape in = inputs.get(0);
        StringBuilder sb = new StringBuilder("sepconv2d(");
        if (in.rank() == 4) {
            sb.append("n=").append(in.n()).append(",c=").append(in.c()).append(",h=").append(in.h()).append(",w=")
                    .append(in.w()).append(',');
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
        if (multiplier != 1) {
            sb.append(",m=").append(multiplier);
        }
        sb.append(',').append(padding.id());
        if (depthwiseBias) {
            sb.append(",dwbias");
        }
        if (!pointwiseBias) {
            sb.append(",nobias");
        }
        if (between != Activation.NONE) {
            sb.append(",dw-").append(between.id());
        }
        if (activation != Activation.NONE) {
            sb.append(',').append(activation.id());
        }
        return sb.toString();
    }

    private static String pair(int a, int b) {
        return a == b ? Integer.toString(a) : a + "x" + b;
    }

    public int outChannels() {
        return outChannels;
    }

    public int multiplier() {
        return multiplier;
    }

    public boolean hasDepthwiseBias() {
        return depthwiseBias;
    }

    public boolean hasPointwiseBias() {
        return pointwiseBias;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SeparableConv2d s && s.hyperParameters().equals(hyperParameters());
    }

    @Override
    public int hashCode() {
        return hyperParameters().hashCode();
    }

    @Override
    public String toString() {
        return "sepconv2d(" + hyperParameters() + ")";
    }

    /** Builds a {@link SeparableConv2d}; {@link #build()} validates every setting. */
    public static final class Builder {
        private final int outChannels;
        private int kernelH = 3;
        private int kernelW = 3;
        private int strideH = 1;
        private int strideW = 1;
        private int dilationH = 1;
        private int dilationW = 1;
        private int multiplier = 1;
        private Padding padding = Padding.SAME;
        private boolean depthwiseBias;
        private boolean pointwiseBias = true;
        private Activation between = Activation.NONE;
        private Activation activation = Activation.NONE;

        private Builder(int outChannels) {
            this.outChannels = outChannels;
        }

        public Builder kernel(int k) {
            return kernel(k, k);
        }

        public Builder kernel(int kh, int kw) {
            this.kernelH = kh;
            this.kernelW = kw;
            return this;
        }

        public Builder stride(int s) {
            return stride(s, s);
        }

        public Builder stride(int sh, int sw) {
            this.strideH = sh;
            this.strideW = sw;
            return this;
        }

        public Builder dilation(int d) {
            return dilation(d, d);
        }

        public Builder dilation(int dh, int dw) {
            this.dilationH = dh;
            this.dilationW = dw;
            return this;
        }

        /** Depthwise filters per input channel. */
        public Builder multiplier(int m) {
            this.multiplier = m;
            return this;
        }

        public Builder padding(Padding p) {
            this.padding = p;
            return this;
        }

        public Builder depthwiseBias(boolean b) {
            this.depthwiseBias = b;
            return this;
        }

        public Builder pointwiseBias(boolean b) {
            this.pointwiseBias = b;
            return this;
        }

        /** Applied to the depthwise result before the pointwise half. */
        public Builder between(Activation a) {
            this.between = a;
            return this;
        }

        /** Applied to the output. */
        public Builder activation(Activation a) {
            this.activation = a;
            return this;
        }

        public SeparableConv2d build() {
            return new SeparableConv2d(this);
        }
    }
}
