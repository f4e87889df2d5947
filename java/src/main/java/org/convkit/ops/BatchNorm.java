package org.convkit.ops;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

import org.convkit.memory.Allocator;
import org.convkit.ops.grad.BatchNormGrad;
import org.convkit.ops.grad.BroadcastSum;
import org.convkit.ops.grad.Gradient;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * Batch normalization in its inference form, ONNX {@code BatchNormalization} with
 * {@code training_mode = 0}: per channel c,
 * {@code y = scale[c] * (x - mean[c]) / sqrt(var[c] + epsilon) + B[c]}.
 *
 * <p>The input is {@code [N, C, D1, ..., Dk]} (rank 2 {@code [N, C]} for a dense layer's output,
 * rank 3, or NCHW); channel is dimension 1. Parameters, in ONNX input order, are
 * {@code scale, B, mean, var}, each {@code [C]}. Epsilon defaults to ONNX's 1e-5 and must be
 * finite and non-negative.
 *
 * <p>FLOPs: 3 per output element, as the kernels compute it: a subtraction and a multiply-add by
 * the per-channel factor {@code scale / sqrt(var + epsilon)}; the per-channel factor itself
 * (C square roots and divisions) is not counted.
 *
 * <p>A batch normalization that follows a convolution folds into it: see
 * {@link #foldIntoConv}.
 */
public final class BatchNorm implements Op {
    /** ONNX's default epsilon. */
    public static final float DEFAULT_EPSILON = 1e-5f;

    private final float epsilon;

    private BatchNorm(float epsilon) {
        if (!Float.isFinite(epsilon) || epsilon < 0) {
            throw new IllegalArgumentException("batchnorm: epsilon must be finite and non-negative, got " + epsilon);
        }
        this.epsilon = epsilon;
    }

    /** Batch normalization with ONNX's default epsilon, 1e-5. */
    public static BatchNorm create() {
        return new BatchNorm(DEFAULT_EPSILON);
    }

    /** Batch normalization with this epsilon (finite, non-negative). */
    public static BatchNorm withEpsilon(float epsilon) {
        return new BatchNorm(epsilon);
    }

    public float epsilon() {
        return epsilon;
    }

    /** Channels (dimension 1) of a valid input. */
    public int channels(Shape input) {
        Objects.requireNonNull(input, "batchnorm: input shape");
        if (input.rank() < 2) {
            throw new IllegalArgumentException("batchnorm: input must be [N, C, ...] (rank 2 or more), got shape " + input
                    + " of rank " + input.rank());
        }
        return input.dim(1);
    }

    /** The output has the input's shape. */
    public Shape outputShape(Shape input) {
        channels(input);
        return input;
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        return outputShape(inputs.get(0));
    }

    /** {@code scale, B, mean, var}, each {@code [C]}. */
    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        requireArity(inputs);
        Shape c = Shape.of(channels(inputs.get(0)));
        return List.of(c, c, c, c);
    }

    @Override
    public List<String> parameterNames(List<Shape> inputs) {
        return List.of("scale", "bias", "mean", "var");
    }

    /**
     * Values a trained network could hold: scale uniform in [0.75, 1.25], B and mean uniform in
     * +-0.5, var uniform in [0.5, 1.5] (positive, so that the square root is real).
     */
    @Override
    public void initParameter(List<Shape> inputs, int index, Tensor t, long seed) {
        switch (index) {
            case 0 -> t.fillUniform(seed, 0.75f, 1.25f);
            case 1, 2 -> t.fillUniform(seed, -0.5f, 0.5f);
            case 3 -> t.fillUniform(seed, 0.5f, 1.5f);
            default -> throw new IllegalArgumentException("batchnorm: no parameter " + index + " (it has scale, bias, mean, var)");
        }
    }

    /** 3 per output element (see the class comment). */
    @Override
    public long flops(List<Shape> inputs) {
        return Math.multiplyExact(3L, outputShape(inputs).elementCount());
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        return describe(inputs.get(0));
    }

    /** The case as a string, e.g. {@code batchnorm(n=1,c=64,h=112,w=112,eps=1e-05)}. */
    public String describe(Shape input) {
        StringBuilder sb = new StringBuilder("batchnorm(");
        if (input.rank() == 4) {
            sb.append("n=").append(input.n()).append(",c=").append(input.c()).append(",h=").append(input.h())
                    .append(",w=").append(input.w());
        } else {
            sb.append("in=").append(input);
        }
        return sb.append(",eps=").append(epsilonString()).append(')').toString();
    }

    private String epsilonString() {
        return String.format(Locale.ROOT, "%.3g", epsilon).replaceFirst("\\.?0+(e|$)", "$1");
    }

    @Override
    public String name() {
        return "batchnorm";
    }

    /**
     * The training form with this epsilon and these parameters: normalizes with the batch's
     * statistics, whose running averages a trainer keeps (see {@link BatchNormTraining}).
     */
    public BatchNormTraining training() {
        return new BatchNormTraining(this);
    }

    /**
     * The gradients of this (inference) form, with the mean and variance held fixed (fine-tuning
     * with frozen statistics): input (dy, scale, var), scale (dy, x, mean, var) and shift (dy); the
     * mean and the variance have none. A network trained with batch statistics runs
     * {@link #training()} instead, whose gradients go through the statistics.
     */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        Shape in = outputShape(inputs);
        int[] aligned = new int[in.rank()];
        Arrays.fill(aligned, 1);
        aligned[1] = in.dim(1);
        return List.of(BatchNormGrad.input(this, in).ofInput(0), BatchNormGrad.scale(this, in).ofParameter(0),
                BroadcastSum.of("batchnorm_grad_bias", this, inputs, Shape.of(in.dim(1))).aligned(Shape.of(aligned))
                        .build().ofParameter(1));
    }

    /** A convolution with the batch normalization that follows it folded in (see {@link #foldIntoConv}). */
    public record Folded(Conv2d conv, Tensor weight, Tensor bias) implements AutoCloseable {
        /** Frees the two tensors. */
        @Override
        public void close() {
            weight.close();
            bias.close();
        }
    }

    /**
     * Folds this batch normalization into the convolution before it, for inference: with
     * {@code f[o] = scale[o] / sqrt(var[o] + epsilon)} per output channel o,
     * {@code w'[o, ...] = w[o, ...] * f[o]} and {@code b'[o] = (b[o] - mean[o]) * f[o] + B[o]}
     * ({@code b[o] = 0} when the convolution has no bias). Running the returned convolution
     * (the same one, with a bias) equals running the convolution then this op, up to float
     * rounding. Computed in double, rounded once to float.
     *
     * @param conv the convolution; it must have no activation, since the normalization
     *     follows the convolution's linear output
     * @param input the convolution's input shape, which fixes the weight shape
     * @param weight the convolution's weight, {@code [OC, C/G, KH, KW]}
     * @param bias the convolution's bias {@code [OC]}, or null exactly when it has none
     * @param scale this op's {@code scale}, {@code [OC]}
     * @param b this op's {@code B}, {@code [OC]}
     * @param mean {@code [OC]}
     * @param var {@code [OC]}; every {@code var + epsilon} must be positive
     * @param host where the folded tensors are allocated; the caller closes them
     */
    public Folded foldIntoConv(Conv2d conv, Shape input, Tensor weight, Tensor bias, Tensor scale, Tensor b, Tensor mean,
            Tensor var, Allocator host) {
        Objects.requireNonNull(conv, "batchnorm: conv");
        Objects.requireNonNull(host, "batchnorm: host allocator");
        if (conv.activation() != Activation.NONE) {
            throw new IllegalArgumentException("batchnorm: cannot fold into " + conv + ": its " + conv.activation().id()
                    + " comes before the normalization, which must see the convolution's linear output");
        }
        Conv2d.Geometry g = conv.geometry(input);
        Shape c = Shape.of(g.oc());
        requireShape("conv weight", weight, g.weightShape(), conv, input);
        if (conv.hasBias() != (bias != null)) {
            throw new IllegalArgumentException("batchnorm: " + conv + (conv.hasBias() ? " has a bias but none was given"
                    : " has no bias but a bias tensor was given"));
        }
        if (bias != null) {
            requireShape("conv bias", bias, c, conv, input);
        }
        requireShape("scale", scale, c, conv, input);
        requireShape("B", b, c, conv, input);
        requireShape("mean", mean, c, conv, input);
        requireShape("var", var, c, conv, input);
        double[] f = new double[g.oc()];
        for (int o = 0; o < f.length; o++) {
            double v = (double) var.get(o) + epsilon;
            if (!(v > 0)) {
                throw new IllegalArgumentException("batchnorm: var[" + o + "] + epsilon = " + v + " is not positive; "
                        + "cannot fold into " + conv);
            }
            f[o] = scale.get(o) / Math.sqrt(v);
        }
        Tensor w2 = Tensor.allocate(g.weightShape(), DType.F32, host, "folded weight");
        Tensor b2;
        try {
            b2 = Tensor.allocate(c, DType.F32, host, "folded bias");
        } catch (RuntimeException | Error e) {
            w2.close();
            throw e;
        }
        long perChannel = g.weightShape().elementCount() / g.oc();
        for (int o = 0; o < f.length; o++) {
            for (long i = o * perChannel; i < (o + 1) * perChannel; i++) {
                w2.set(i, (float) (weight.get(i) * f[o]));
            }
            double convBias = bias == null ? 0 : bias.get(o);
            b2.set(o, (float) ((convBias - mean.get(o)) * f[o] + b.get(o)));
        }
        return new Folded(conv.toBuilder().bias(true).build(), w2, b2);
    }

    private static void requireShape(String what, Tensor t, Shape expected, Conv2d conv, Shape input) {
        Objects.requireNonNull(t, "batchnorm: " + what);
        if (!t.shape().equals(expected)) {
            throw new IllegalArgumentException("batchnorm: " + what + " has shape " + t.shape() + " but " + conv
                    + " on input " + input + " needs " + expected);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BatchNorm bn && Float.compare(bn.epsilon, epsilon) == 0;
    }

    @Override
    public int hashCode() {
        return Float.hashCode(epsilon);
    }

    @Override
    public String toString() {
        return "batchnorm(eps=" + epsilonString() + ")";
    }
}
