package org.convkit.ops;

import java.util.List;
import java.util.Objects;

import org.convkit.ops.grad.Gradient;
import org.convkit.ops.grad.SqueezeExciteGrad;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * The squeeze-and-excitation block of SENet, fused into one op on NCHW input {@code x}:
 *
 * <pre>
 *   p[n,c]   = mean over (h,w) of x[n,c,h,w]                       squeeze (global average pool)
 *   h[n,j]   = relu(b1[j] + sum_c W1[j,c] * p[n,c])                 dense, C -> hidden
 *   s[n,c]   = sigmoid(b2[c] + sum_j W2[c,j] * h[n,j])              dense, hidden -> C
 *   y[n,c,h,w] = x[n,c,h,w] * s[n,c]                                excitation (channel scale)
 * </pre>
 *
 * <p>Parameters, in argument order: {@code w1 [hidden, C]}, {@code b1 [hidden]}, {@code w2 [C,
 * hidden]}, {@code b2 [C]}; the dense weights are in PyTorch {@code Linear} layout {@code [out,
 * in]}. SE has no ONNX operator; the formula above is its definition.
 *
 * <p><b>Hidden size.</b> {@code hidden = max(1, floor(C / ratio))}: the paper's {@code C / r}
 * rounded down, never below one unit, so every channel count is accepted (C = 20 with r = 16
 * gets 1 hidden unit, C = 40 gets 2, C = 256 gets 16). The ratio must be at least 1 (the
 * default is 16, as in SENet); a ratio above C is allowed and gives one hidden unit.
 *
 * <p><b>Workspace.</b> The kernels keep {@code p}, {@code h} and {@code s} in a caller-provided
 * workspace of {@code N * (C + hidden + C)} floats, laid out as {@code p [N,C]}, then
 * {@code h [N,hidden]}, then {@code s [N,C]}.
 *
 * <p><b>FLOPs.</b> {@code N*C*H*W} for the pooling sums (one add per input element), {@code
 * 2*N*hidden*C} and {@code 2*N*C*hidden} for the two dense layers (2 per multiply-add) and
 * {@code N*C*H*W} for the scale (one multiply per output): {@code 2*N*C*H*W + 4*N*C*hidden}. The
 * division of the mean, the biases, ReLU and sigmoid (all O(N*C)) are not counted, as
 * {@link Conv2d} does not count bias and activation.
 *
 * <p><b>Bytes moved.</b> The input is counted twice: every {@code s[n,c]} depends on the whole of
 * {@code x[n]} through the dense layers, so {@code x} must be read once to pool and again to
 * scale. Parameters and output count once; the O(N*C) workspace traffic is not counted.
 */
public final class SqueezeExcite implements Op {
    /** SENet's reduction ratio. */
    public static final int DEFAULT_RATIO = 16;

    private final int ratio;

    private SqueezeExcite(int ratio) {
        if (ratio < 1) {
            throw new IllegalArgumentException("squeeze_excite: ratio must be at least 1, got " + ratio);
        }
        this.ratio = ratio;
    }

    /** An SE block with SENet's ratio 16. */
    public static SqueezeExcite of() {
        return new SqueezeExcite(DEFAULT_RATIO);
    }

    /** An SE block with reduction ratio {@code ratio} (at least 1). */
    public static SqueezeExcite of(int ratio) {
        return new SqueezeExcite(ratio);
    }

    public int ratio() {
        return ratio;
    }

    @Override
    public String name() {
        return "squeeze_excite";
    }

    /** The block resolved for one NCHW input. */
    public record Geometry(int n, int c, int h, int w, int hidden) {
        /** Spatial size of one plane, {@code H * W}. */
        public long plane() {
            return (long) h * w;
        }

        public Shape inputShape() {
            return Shape.nchw(n, c, h, w);
        }

        /** Offset (in floats) of the pooled vector {@code p [N,C]} in the workspace. */
        public long pooledOffset() {
            return 0;
        }

        /** Offset (in floats) of the hidden vector {@code h [N,hidden]} in the workspace. */
        public long hiddenOffset() {
            return (long) n * c;
        }

        /** Offset (in floats) of the scales {@code s [N,C]} in the workspace. */
        public long scalesOffset() {
            return (long) n * c + (long) n * hidden;
        }

        /** Workspace size in floats: {@code N * (C + hidden + C)}. */
        public long workspaceFloats() {
            return (long) n * (2L * c + hidden);
        }
    }

    /** Resolves and validates the block for an NCHW input. */
    public Geometry geometry(Shape input) {
        Objects.requireNonNull(input, "squeeze_excite: input shape");
        if (input.rank() != 4) {
            throw new IllegalArgumentException("squeeze_excite: input must be NCHW (rank 4), got shape " + input
                    + " of rank " + input.rank());
        }
        return new Geometry(input.n(), input.c(), input.h(), input.w(), hidden(input.c()));
    }

    /** Hidden units for {@code channels} input channels: {@code max(1, channels / ratio)}. */
    public int hidden(int channels) {
        return Math.max(1, channels / ratio);
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        return geometry(inputs.get(0)).inputShape();
    }

    /** {@code w1 [hidden, C]}, {@code b1 [hidden]}, {@code w2 [C, hidden]}, {@code b2 [C]}. */
    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        requireArity(inputs);
        Geometry g = geometry(inputs.get(0));
        return List.of(Shape.of(g.hidden(), g.c()), Shape.of(g.hidden()), Shape.of(g.c(), g.hidden()), Shape.of(g.c()));
    }

    @Override
    public List<String> parameterNames(List<Shape> inputs) {
        return List.of("w1", "b1", "w2", "b2");
    }

    /**
     * PyTorch's {@code Linear} default: weights and biases of each dense layer uniform in
     * {@code +-1/sqrt(fan-in)}, fan-in C for the first layer and hidden for the second.
     */
    @Override
    public void initParameter(List<Shape> inputs, int index, Tensor t, long seed) {
        Geometry g = geometry(inputs.get(0));
        int fanIn = index < 2 ? g.c() : g.hidden();
        float a = (float) (1.0 / Math.sqrt(fanIn));
        t.fillUniform(seed, -a, a);
    }

    /** {@code 2*N*C*H*W + 4*N*C*hidden} (see the class comment). */
    @Override
    public long flops(List<Shape> inputs) {
        requireArity(inputs);
        Geometry g = geometry(inputs.get(0));
        long elements = g.inputShape().elementCount();
        try {
            return Math.addExact(Math.multiplyExact(2L, elements), 4L * g.n() * g.c() * g.hidden());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("squeeze_excite: FLOP count of " + describe(inputs) + " overflows a long", e);
        }
    }

    /** The input twice, parameters and output once (see the class comment). */
    @Override
    public long bytesMoved(List<Shape> inputs, DType dtype) {
        return Op.super.bytesMoved(inputs, dtype) + inputs.get(0).byteSize(dtype);
    }

    /** {@code N * (C + hidden + C)} elements of {@code dtype}. */
    @Override
    public long workspaceBytes(List<Shape> inputs, DType dtype) {
        requireArity(inputs);
        return geometry(inputs.get(0)).workspaceFloats() * dtype.byteSize();
    }

    /**
     * The gradients of the input and the four parameters: each a {@link SqueezeExciteGrad}, which
     * recomputes the block's pooled vector, hidden layer and scales (the fused forward keeps none)
     * and reads dy, x and the parameters.
     */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        requireArity(inputs);
        Shape in = geometry(inputs.get(0)).inputShape();
        return List.of(new SqueezeExciteGrad(this, in, SqueezeExciteGrad.Term.INPUT).ofInput(0),
                new SqueezeExciteGrad(this, in, SqueezeExciteGrad.Term.W1).ofParameter(0),
                new SqueezeExciteGrad(this, in, SqueezeExciteGrad.Term.B1).ofParameter(1),
                new SqueezeExciteGrad(this, in, SqueezeExciteGrad.Term.W2).ofParameter(2),
                new SqueezeExciteGrad(this, in, SqueezeExciteGrad.Term.B2).ofParameter(3));
    }

    /** The case as a string, e.g. {@code squeeze_excite(n=1,c=256,h=56,w=56,r=16,hidden=16)}. */
    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        Shape s = inputs.get(0);
        if (s.rank() != 4) {
            return "squeeze_excite(in=" + s + ",r=" + ratio + ")";
        }
        return "squeeze_excite(n=" + s.n() + ",c=" + s.c() + ",h=" + s.h() + ",w=" + s.w() + ",r=" + ratio + ",hidden="
                + hidden(s.c()) + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SqueezeExcite s && s.ratio == ratio;
    }

    @Override
    public int hashCode() {
        return Integer.hashCode(ratio);
    }

    @Override
    public String toString() {
        return "squeeze_excite(r=" + ratio + ")";
    }
}
