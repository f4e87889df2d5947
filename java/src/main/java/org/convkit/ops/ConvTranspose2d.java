package org.convkit.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.convkit.ops.grad.BroadcastSum;
import org.convkit.ops.grad.Conv2dGrad;
import org.convkit.ops.grad.Gradient;
import org.convkit.tensor.Shape;

/**
 * 2-D transposed convolution ("deconvolution", fractionally-strided convolution) on NCHW input,
 * with the semantics of ONNX {@code ConvTranspose}: the learned upsampling of segmentation
 * networks (FCN, U-Net).
 *
 * <p>Weights are {@code [inChannels, outChannels / groups, kernelH, kernelW]}: input channels
 * first, unlike {@link Conv2d}. Bias {@code [outChannels]}. Input pixel {@code (ih, iw)} of channel
 * {@code c} adds {@code x * w[c, o', r, s]} to output pixel
 * {@code (ih * strideH - padTop + r * dilationH, iw * strideW - padLeft + s * dilationW)} of output
 * channel {@code g * outChannels / groups + o'}, where {@code g = c / (inChannels / groups)};
 * output pixels outside the output are dropped. A fused {@link Activation} follows the bias.
 *
 * <p><b>Output size</b>, per spatial axis, with {@code full = stride * (in - 1) + outputPadding +
 * (kernel - 1) * dilation + 1} (the size before any pad is cropped):
 * <ul>
 *   <li>explicit pads (also {@link Padding#VALID}, all zero): {@code out = full - padBegin - padEnd};</li>
 *   <li>{@link Padding#SAME} (ONNX {@code SAME_UPPER}) and {@link Padding#SAME_LOWER}: {@code out = in * stride},
 *       {@code total = full - out} split as below;</li>
 *   <li>an explicit {@link Builder#outputShape(int, int) output shape}: {@code out} as given,
 *       {@code total = full - out} split as below; output padding counts in {@code full}.</li>
 * </ul>
 * The split is ONNX's, with {@code /} rounding toward minus infinity as in ONNX's Python reference:
 * under SAME_UPPER {@code padBegin = total / 2} (the larger half at the end), otherwise
 * {@code padBegin = total - total / 2} (the larger half at the start; with an output shape this is
 * the rule for auto_pad NOTSET, {@link Padding#VALID} here, and SAME_LOWER). This is
 * ConvTranspose's own SAME rule: it fixes the output, not the input, so it differs from
 * {@link Padding#resolve}. A negative total (output shape beyond {@code full}, or a kernel smaller
 * than the stride under SAME) gives negative pads: output pixels that no input reaches, which hold
 * the bias. Note: ONNX's reference evaluator ignores the output-shape split under NOTSET and
 * crops or extends at the end only; ONNX Runtime clamps the total at zero; the three agree only
 * when the total is 0 or -1 (as in ONNX's conformance tests). convkit follows the spec's equations.
 *
 * <p>Output padding must be smaller than the stride or the dilation of its axis (ONNX, PyTorch).
 * An output shape replaces pads, so it cannot be combined with explicit pads.
 *
 * <p>FLOPs count 2 per multiply-add that reaches the output (products that would land in cropped
 * pads are not computed by the gather kernels and not counted); bias and activation are not
 * counted.
 */
public final class ConvTranspose2d implements Op {
    private final int outChannels;
    private final int kernelH;
    private final int kernelW;
    private final int strideH;
    private final int strideW;
    private final int dilationH;
    private final int dilationW;
    private final int outputPaddingH;
    private final int outputPaddingW;
    private final int groups;
    private final boolean bias;
    private final Padding padding;
    /** Explicit output height and width, or 0 when the pads decide. */
    private final int outputH;
    private final int outputW;
    private final Activation activation;

    private ConvTranspose2d(Builder b) {
        this.outChannels = b.outChannels;
        this.kernelH = b.kernelH;
        this.kernelW = b.kernelW;
        this.strideH = b.strideH;
        this.strideW = b.strideW;
        this.dilationH = b.dilationH;
        this.dilationW = b.dilationW;
        this.outputPaddingH = b.outputPaddingH;
        this.outputPaddingW = b.outputPaddingW;
        this.groups = b.groups;
        this.bias = b.bias;
        this.padding = b.padding;
        this.outputH = b.outputH;
        this.outputW = b.outputW;
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
            throw new IllegalArgumentException("conv_transpose2d: outChannels " + outChannels + " is not divisible by groups "
                    + groups);
        }
        outputPadding("H", outputPaddingH, strideH, dilationH);
        outputPadding("W", outputPaddingW, strideW, dilationW);
        if (padding == null) {
            throw new IllegalArgumentException("conv_transpose2d: padding must not be null");
        }
        if (activation == null) {
            throw new IllegalArgumentException("conv_transpose2d: activation must not be null (use Activation.NONE)");
        }
        if (b.outputShapeSet) {
            if (outputH < 1 || outputW < 1) {
                throw new IllegalArgumentException("conv_transpose2d: outputShape must be positive, got " + outputH + "x"
                        + outputW);
            }
            if (padding instanceof Padding.Explicit e) {
                throw new IllegalArgumentException("conv_transpose2d: outputShape " + outputH + "x" + outputW
                        + " determines the pads, so explicit padding " + e.id()
                        + " would be ignored (as ONNX does); give one or the other");
            }
        }
    }

    private static void positive(String param, int v) {
        if (v < 1) {
            throw new IllegalArgumentException("conv_transpose2d: " + param + " must be positive, got " + v);
        }
    }

    private static void outputPadding(String axis, int op, int stride, int dilation) {
        if (op < 0) {
            throw new IllegalArgumentException("conv_transpose2d: outputPadding" + axis + " must be non-negative, got " + op);
        }
        if (op >= stride && op >= dilation) {
            throw new IllegalArgumentException("conv_transpose2d: outputPadding" + axis + " " + op
                    + " must be smaller than stride" + axis + " " + stride + " or dilation" + axis + " " + dilation);
        }
    }

    /** A builder for {@code outChannels} output channels (1x1 kernel, stride 1, no pads, bias, no activation until set). */
    public static Builder builder(int outChannels) {
        return new Builder(outChannels);
    }

    /**
     * The transposed convolution resolved for one input shape: every size and pad the kernels and
     * the references need, validated. Pads may be negative (see the class comment).
     */
    public record Geometry(int n, int c, int h, int w, int oc, int oh, int ow, int kh, int kw, int sh, int sw,
            int dh, int dw, int padTop, int padLeft, int padBottom, int padRight, int outputPaddingH,
            int outputPaddingW, int groups, boolean bias, Activation activation) {
        /** Input channels per group. */
        public int cPerGroup() {
            return c / groups;
        }

        /** Output channels per group. */
        public int ocPerGroup() {
            return oc / groups;
        }

        /**
         * Multiply-adds that reach the output: per axis, the (input pixel, tap) pairs landing inside it.
         *
         * @throws ArithmeticException if the count overflows a long
         */
        public long macs() {
            long pairs = Math.multiplyExact(reaching(h, oh, kh, sh, dh, padTop), reaching(w, ow, kw, sw, dw, padLeft));
            return Math.multiplyExact(Math.multiplyExact((long) n * oc, (long) cPerGroup()), pairs);
        }

        /** Pairs (i, k), i < in, k < taps, with {@code i * s - pad + k * d} in [0, out). */
        private static long reaching(int in, int out, int taps, int s, int d, int pad) {
            long count = 0;
            for (int k = 0; k < taps; k++) {
                long offset = (long) k * d - pad;
                long lo = Math.max(0, Math.ceilDiv(-offset, s));
                long hi = Math.min(in - 1L, Math.floorDiv(out - 1 - offset, s));
                count += Math.max(0, hi - lo + 1);
            }
            return count;
        }

        public Shape inputShape() {
            return Shape.nchw(n, c, h, w);
        }

        public Shape outputShape() {
            return Shape.nchw(n, oc, oh, ow);
        }

        /** {@code [inChannels, outChannels / groups, kernelH, kernelW]}. */
        public Shape weightShape() {
            return Shape.of(c, ocPerGroup(), kh, kw);
        }
    }

    /** Resolves and validates this transposed convolution for an NCHW input. */
    public Geometry geometry(Shape input) {
        Objects.requireNonNull(input, "conv_transpose2d: input shape");
        if (input.rank() != 4) {
            throw new IllegalArgumentException("conv_transpose2d: input must be NCHW (rank 4), got shape " + input
                    + " of rank " + input.rank());
        }
        int c = input.c();
        if (c % groups != 0) {
            throw new IllegalArgumentException("conv_transpose2d: input channels " + c + " are not divisible by groups "
                    + groups + " (input " + input + ")");
        }
        int[] rows = resolve(0, input.h(), kernelH, strideH, dilationH, outputPaddingH, outputH);
        int[] cols = resolve(1, input.w(), kernelW, strideW, dilationW, outputPaddingW, outputW);
        Geometry g = new Geometry(input.n(), c, input.h(), input.w(), outChannels, rows[2], cols[2], kernelH, kernelW,
                strideH, strideW, dilationH, dilationW, rows[0], cols[0], rows[1], cols[1], outputPaddingH,
                outputPaddingW, groups, bias, activation);
        // Shape's constructor checks that the element counts fit in a long.
        g.outputShape();
        g.weightShape();
        return g;
    }

    /**
     * One spatial axis: {@code {padBegin, padEnd, outputSize}} by the rules of the class comment.
     *
     * @param target the explicit output size, or 0
     */
    private int[] resolve(int axis, int in, int k, int s, int d, int outPad, int target) {
        String name = axis == 0 ? "height" : "width";
        long full = (long) s * (in - 1) + outPad + (long) (k - 1) * d + 1;
        long out;
        long before;
        long after;
        if (target > 0 || padding instanceof Padding.Same) {
            out = target > 0 ? target : (long) in * s;
            long total = full - out;
            boolean upper = padding instanceof Padding.Same same && !same.lower();
            before = upper ? Math.floorDiv(total, 2) : total - Math.floorDiv(total, 2);
            after = total - before;
        } else {
            before = 0;
            after = 0;
            if (padding instanceof Padding.Explicit e) {
                before = axis == 0 ? e.top() : e.left();
                after = axis == 0 ? e.bottom() : e.right();
            }
            out = full - before - after;
            if (out < 1) {
                throw new IllegalArgumentException("conv_transpose2d: pads " + before + "+" + after + " leave no output "
                        + name + ": " + s + " * (" + in + " - 1) + " + outPad + " + (" + k + " - 1) * " + d + " + 1 - "
                        + before + " - " + after + " = " + out + " (input " + name + " " + in + ", kernel " + k
                        + ", stride " + s + ")");
            }
        }
        if (out > Integer.MAX_VALUE || Math.abs(before) > Integer.MAX_VALUE || Math.abs(after) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("conv_transpose2d: output " + name + " " + out + " (input " + name + " "
                    + in + ", stride " + s + ") does not fit in an int");
        }
        return new int[] {(int) before, (int) after, (int) out};
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

    /** Weight shape {@code [inChannels, outChannels / groups, kernelH, kernelW]} for this input. */
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

    /** FLOPs of one run on this input: 2 per multiply-add that reaches the output. */
    public long flops(Shape input) {
        Geometry g = geometry(input);
        try {
            return Math.multiplyExact(2L, g.macs());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("conv_transpose2d: FLOP count of " + describe(input) + " overflows a long", e);
        }
    }

    /**
     * The input gradient ({@link Conv2dGrad#data(ConvTranspose2d, Shape)}: a convolution of dy with
     * these weights and pads), the weight gradient and, with a bias, its gradient (dy summed over N,
     * H and W); each also reads the output when a ReLU is fused.
     */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        requireArity(inputs);
        Shape in = inputs.get(0);
        List<Gradient> g = new ArrayList<>(3);
        g.add(Conv2dGrad.data(this, in).ofInput(0));
        g.add(Conv2dGrad.weight(this, in).ofParameter(0));
        if (bias) {
            g.add(BroadcastSum.of("conv_transpose2d_grad_bias", this, inputs, Shape.of(outChannels))
                    .aligned(Shape.nchw(1, outChannels, 1, 1)).masked(activation == Activation.RELU).build().ofParameter(1));
        }
        return g;
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        return describe(inputs.get(0));
    }

    /** The case as a string, e.g. {@code conv_transpose2d(n=1,c=21,h=16,w=16,oc=21,k=4,s=2,valid)}. */
    public String describe(Shape input) {
        StringBuilder sb = new StringBuilder("conv_transpose2d(");
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
        if (outputPaddingH != 0 || outputPaddingW != 0) {
            sb.append(",op=").append(pair(outputPaddingH, outputPaddingW));
        }
        if (outputH > 0) {
            sb.append(",out=").append(outputH).append('x').append(outputW);
            if (padding instanceof Padding.Same) {
                sb.append(',').append(padding.id());
            }
        } else {
            sb.append(',').append(padding.id());
        }
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
        return "conv_transpose2d";
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

    public int outputPaddingH() {
        return outputPaddingH;
    }

    public int outputPaddingW() {
        return outputPaddingW;
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

    /** Whether an explicit output shape decides the pads. */
    public boolean hasOutputShape() {
        return outputH > 0;
    }

    /** The explicit output height, or 0 when the pads decide. */
    public int outputH() {
        return outputH;
    }

    /** The explicit output width, or 0 when the pads decide. */
    public int outputW() {
        return outputW;
    }

    public Activation activation() {
        return activation;
    }

    /** A builder initialised with this transposed convolution's settings. */
    public Builder toBuilder() {
        Builder b = new Builder(outChannels);
        b.kernelH = kernelH;
        b.kernelW = kernelW;
        b.strideH = strideH;
        b.strideW = strideW;
        b.dilationH = dilationH;
        b.dilationW = dilationW;
        b.outputPaddingH = outputPaddingH;
        b.outputPaddingW = outputPaddingW;
        b.groups = groups;
        b.bias = bias;
        b.padding = padding;
        b.outputH = outputH;
        b.outputW = outputW;
        b.outputShapeSet = outputH > 0;
        b.activation = activation;
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConvTranspose2d c && c.outChannels == outChannels && c.kernelH == kernelH
                && c.kernelW == kernelW && c.strideH == strideH && c.strideW == strideW && c.dilationH == dilationH
                && c.dilationW == dilationW && c.outputPaddingH == outputPaddingH && c.outputPaddingW == outputPaddingW
                && c.groups == groups && c.bias == bias && c.padding.equals(padding) && c.outputH == outputH
                && c.outputW == outputW && c.activation == activation;
    }

    @Override
    public int hashCode() {
        return Objects.hash(outChannels, kernelH, kernelW, strideH, strideW, dilationH, dilationW, outputPaddingH,
                outputPaddingW, groups, bias, padding, outputH, outputW, activation);
    }

    @Override
    public String toString() {
        return "conv_transpose2d(" + hyperParameters() + ")";
    }

    /** Builds a {@link ConvTranspose2d}; {@link #build()} validates every setting. */
    public static final class Builder {
        private final int outChannels;
        private int kernelH = 1;
        private int kernelW = 1;
        private int strideH = 1;
        private int strideW = 1;
        private int dilationH = 1;
        private int dilationW = 1;
        private int outputPaddingH;
        private int outputPaddingW;
        private int groups = 1;
        private boolean bias = true;
        private Padding padding = Padding.VALID;
        private boolean outputShapeSet;
        private int outputH;
        private int outputW;
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

        /** The same stride (upsampling factor) on both axes. */
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

        /** Extra output rows / columns at the end (ONNX {@code output_padding}); each below its stride or dilation. */
        public Builder outputPadding(int oph, int opw) {
            this.outputPaddingH = oph;
            this.outputPaddingW = opw;
            return this;
        }

        /** Groups; input and output channels must both be divisible by it. */
        public Builder groups(int g) {
            this.groups = g;
            return this;
        }

        public Builder bias(boolean b) {
            this.bias = b;
            return this;
        }

        /**
         * {@link Padding#VALID} (no pads, the default; ONNX auto_pad NOTSET or VALID), explicit pads
         * (top, left, bottom, right), or {@link Padding#SAME} / {@link Padding#SAME_LOWER} with
         * ConvTranspose's rule (output = input * stride; see the class comment).
         */
        public Builder padding(Padding p) {
            this.padding = p;
            return this;
        }

        /** The output's height and width (ONNX {@code output_shape}); the pads are derived from it. */
        public Builder outputShape(int oh, int ow) {
            this.outputShapeSet = true;
            this.outputH = oh;
            this.outputW = ow;
            return this;
        }

        public Builder activation(Activation a) {
            this.activation = a;
            return this;
        }

        public ConvTranspose2d build() {
            return new ConvTranspose2d(this);
        }
    }
}
