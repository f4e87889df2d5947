package org.convkit.ops;

import java.util.List;
import java.util.Objects;

import org.convkit.ops.grad.Gradient;
import org.convkit.ops.grad.LrnGrad;
import org.convkit.tensor.Shape;

/**
 * Local response normalization across channels (AlexNet), on {@code [N, C, D1, ..., Dk]} input
 * (NCHW for images; channels are axis 1, as in ONNX). Each element is divided by a power of the
 * sum of squares of the same position in neighbouring channels:
 *
 * <pre>
 *   y[n,c,s] = x[n,c,s] / (bias + scale * sum_{c' in window(c), 0 <= c' < C} x[n,c',s]^2)^beta
 * </pre>
 *
 * <p>Two conventions disagree on the window and on {@code scale}; there is no default, a
 * descriptor is made with one of them explicitly:
 *
 * <ul>
 *   <li>{@link #onnx(int, float, float, float) ONNX} (also PyTorch, Caffe): {@code size} channels,
 *       window {@code [c - floor((size-1)/2), c + ceil((size-1)/2)]} (asymmetric for an even
 *       size: the extra channel is after c), {@code scale = alpha / size}.</li>
 *   <li>{@link #tensorflow(int, float, float, float) TensorFlow}
 *       ({@code tf.nn.local_response_normalization}): {@code depth_radius} r, window
 *       {@code [c - r, c + r]}, {@code scale = alpha} (NOT divided by the window size).</li>
 * </ul>
 * Windows are clipped to the existing channels in both. The same hyper-parameters therefore give
 * different results: AlexNet's {@code n=5, k=2, alpha=1e-4, beta=0.75} is
 * {@code Lrn.onnx(5, 1e-4f, 0.75f, 2f)} in ONNX terms and, with the paper's undivided alpha,
 * {@code Lrn.tensorflow(2, 2f, 1e-4f, 0.75f)}.
 *
 * <p>{@code bias > 0} and {@code alpha >= 0} are required, so that the base of the power is
 * positive for every input (a sum of squares is never negative) and the power is always defined.
 *
 * <p>FLOPs: per output element, 2 per channel of its clipped window (square and add: a
 * multiply-add) plus 4 (scale, add bias, power, divide).
 */
public final class Lrn implements Op {
    /** Which framework's definition the descriptor follows. */
    public enum Convention {
        /** ONNX / PyTorch / Caffe: {@code size}, alpha divided by size. */
        ONNX,
        /** TensorFlow: {@code depth_radius}, alpha not divided. */
        TENSORFLOW
    }

    private final Convention convention;
    /** Window size (ONNX) or depth radius (TensorFlow), as given. */
    private final int extent;
    private final float alpha;
    private final float beta;
    private final float bias;

    private Lrn(Convention convention, int extent, float alpha, float beta, float bias) {
        this.convention = convention;
        this.extent = extent;
        this.alpha = alpha;
        this.beta = beta;
        this.bias = bias;
        if (convention == Convention.ONNX && extent < 1) {
            throw new IllegalArgumentException("lrn: size must be at least 1, got " + extent);
        }
        if (convention == Convention.TENSORFLOW && extent < 0) {
            throw new IllegalArgumentException("lrn: depthRadius must be non-negative, got " + extent);
        }
        finite("alpha", alpha);
        finite("beta", beta);
        finite("bias", bias);
        if (!(bias > 0)) {
            throw new IllegalArgumentException("lrn: bias must be positive (the base bias + alpha * sum of squares "
                    + "must be positive for the power to be defined), got " + bias);
        }
        if (alpha < 0) {
            throw new IllegalArgumentException("lrn: alpha must be non-negative (a negative alpha makes the base "
                    + "bias + alpha * sum of squares negative for large inputs), got " + alpha);
        }
    }

    private static void finite(String param, float v) {
        if (!Float.isFinite(v)) {
            throw new IllegalArgumentException("lrn: " + param + " must be finite, got " + v);
        }
    }

    /**
     * ONNX {@code LRN} (and PyTorch {@code LocalResponseNorm}): {@code size} channels, alpha divided
     * by size. ONNX's defaults are alpha 1e-4, beta 0.75, bias 1; {@code size} has none.
     */
    public static Lrn onnx(int size, float alpha, float beta, float bias) {
        return new Lrn(Convention.ONNX, size, alpha, beta, bias);
    }

    /**
     * TensorFlow {@code tf.nn.local_response_normalization(depth_radius, bias, alpha, beta)}, in
     * that argument order: window {@code 2 * depthRadius + 1}, alpha not divided. TensorFlow's
     * defaults are 5, 1, 1, 0.5.
     */
    public static Lrn tensorflow(int depthRadius, float bias, float alpha, float beta) {
        return new Lrn(Convention.TENSORFLOW, depthRadius, alpha, beta, bias);
    }

    /**
     * The descriptor resolved for one input: sizes and the window as offsets, as the kernels and
     * the reference use them.
     *
     * @param n batch
     * @param c channels
     * @param spatial product of the dimensions after the channels (1 for a rank-2 input)
     * @param before channels of the window before c (clipped to {@code c - 1}: more never exist)
     * @param after channels of the window after c (likewise clipped)
     * @param scale the factor of the sum of squares: alpha / size (ONNX) or alpha (TensorFlow)
     * @param bias added to the scaled sum (positive)
     * @param beta the power of the base
     */
    public record Geometry(int n, int c, int spatial, int before, int after, double scale, float bias, float beta) {
    }

    /** Resolves and validates this LRN for an input of shape {@code [N, C, ...]}. */
    public Geometry geometry(Shape input) {
        if (input == null) {
            throw new IllegalArgumentException("lrn: input shape must not be null");
        }
        if (input.rank() < 2) {
            throw new IllegalArgumentException("lrn: input must be [N, C, ...] (NCHW for images, rank 2 or more), "
                    + "got shape " + input + " of rank " + input.rank());
        }
        int c = input.dim(1);
        long spatial = input.elementCount() / ((long) input.dim(0) * c);
        if (spatial > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("lrn: spatial size " + spatial + " of input " + input
                    + " exceeds 2^31 - 1");
        }
        int before;
        int after;
        double scale;
        if (convention == Convention.ONNX) {
            before = (extent - 1) / 2;
            after = extent - 1 - before;
            scale = (double) alpha / extent;
        } else {
            before = extent;
            after = extent;
            scale = alpha;
        }
        return new Geometry(input.dim(0), c, (int) spatial, Math.min(before, c - 1), Math.min(after, c - 1), scale,
                bias, beta);
    }

    @Override
    public String name() {
        return "lrn";
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        geometry(inputs.get(0));
        return inputs.get(0);
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        requireArity(inputs);
        geometry(inputs.get(0));
        return List.of();
    }

    /** See the class comment: 2 per channel of each output's clipped window, plus 4 per output. */
    @Override
    public long flops(List<Shape> inputs) {
        requireArity(inputs);
        Geometry g = geometry(inputs.get(0));
        long windowChannels = 0;
        for (int ch = 0; ch < g.c(); ch++) {
            windowChannels += Math.min(g.c() - 1, ch + g.after()) - Math.max(0, ch - g.before()) + 1;
        }
        try {
            long perPosition = Math.addExact(Math.multiplyExact(2L, windowChannels), 4L * g.c());
            return Math.multiplyExact(Math.multiplyExact(perPosition, (long) g.n()), (long) g.spatial());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("lrn: FLOP count of " + describe(inputs) + " overflows a long", e);
        }
    }

    /** The input gradient, {@link LrnGrad}, which reads dy and x. */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        requireArity(inputs);
        return List.of(new LrnGrad(this, inputs.get(0)).ofInput(0));
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        Shape in = inputs.get(0);
        StringBuilder sb = new StringBuilder("lrn(");
        if (in.rank() == 4) {
            sb.append("n=").append(in.n()).append(",c=").append(in.c()).append(",h=").append(in.h()).append(",w=")
                    .append(in.w());
        } else {
            sb.append("in=").append(in);
        }
        return sb.append(',').append(hyperParameters()).append(')').toString();
    }

    private String hyperParameters() {
        return convention == Convention.ONNX
                ? "onnx,size=" + extent + ",alpha=" + alpha + ",beta=" + beta + ",bias=" + bias
                : "tf,radius=" + extent + ",bias=" + bias + ",alpha=" + alpha + ",beta=" + beta;
    }

    public Convention convention() {
        return convention;
    }

    /** The ONNX window size; for a TensorFlow descriptor, {@code 2 * depthRadius + 1} (a long: it may exceed an int). */
    public long size() {
        return convention == Convention.ONNX ? extent : 2L * extent + 1;
    }

    /**
     * The TensorFlow depth radius.
     *
     * @throws IllegalStateException for an ONNX descriptor, whose window has no radius when its size is even
     */
    public int depthRadius() {
        if (convention != Convention.TENSORFLOW) {
            throw new IllegalStateException("lrn: an ONNX descriptor has a size (" + extent + "), not a depth radius");
        }
        return extent;
    }

    public float alpha() {
        return alpha;
    }

    public float beta() {
        return beta;
    }

    public float bias() {
        return bias;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Lrn l && l.convention == convention && l.extent == extent
                && Float.compare(l.alpha, alpha) == 0 && Float.compare(l.beta, beta) == 0
                && Float.compare(l.bias, bias) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(convention, extent, alpha, beta, bias);
    }

    @Override
    public String toString() {
        return "lrn(" + hyperParameters() + ")";
    }
}
