package org.convkit.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.convkit.ops.grad.BroadcastSum;
import org.convkit.ops.grad.DenseGrad;
import org.convkit.ops.grad.Gradient;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * A dense (fully connected) layer with the semantics of ONNX {@code Gemm}:
 * {@code Y = act(alpha * A' * B' + beta * C)}, where {@code A' = transA ? A^T : A} is the
 * activation input, {@code B' = transB ? B^T : B} the weight parameter and {@code C} the optional
 * bias parameter.
 *
 * <ul>
 *   <li>A is rank 2: {@code [M, K]}, or {@code [K, M]} with {@code transA}.</li>
 *   <li>B is {@code [K, N]}, or {@code [N, K]} with {@code transB} (PyTorch {@code Linear}, the
 *       usual CNN layout, which {@link #linear} uses). N is {@link #units()}; K is taken from the
 *       input unless {@link Builder#inFeatures(int)} fixes it, in which case an input with another
 *       K is rejected naming both shapes.</li>
 *   <li>C, when present, is unidirectionally broadcastable to {@code [M, N]} (ONNX rules, aligned
 *       on the right): {@code [1]} (the ONNX scalar, whose rank 0 this library spells {@code [1]}),
 *       {@code [N]}, {@code [1, 1]}, {@code [1, N]}, {@code [M, 1]} or {@code [M, N]}.</li>
 *   <li>The fused {@link Activation} is applied last, after the bias.</li>
 * </ul>
 * Parameters come in ONNX input order: B ({@code weight}), then C ({@code bias}).
 *
 * <p>FLOPs: {@code 2 * M * N * K} (the multiply-adds); the scaling by alpha and beta, the bias
 * and the activation are not counted, as for {@link Conv2d}.
 */
public final class Dense implements Op {
    private final int units;
    private final int inFeatures;
    private final boolean transA;
    private final boolean transB;
    private final float alpha;
    private final float beta;
    private final Shape bias;
    private final Activation activation;

    private Dense(Builder b) {
        this.units = b.units;
        this.inFeatures = b.inFeatures;
        this.transA = b.transA;
        this.transB = b.transB;
        this.alpha = b.alpha;
        this.beta = b.beta;
        if (units < 1) {
            throw new IllegalArgumentException("dense: units (N) must be positive, got " + units);
        }
        this.bias = b.biasShape != null ? b.biasShape : b.bias ? Shape.of(b.units) : null;
        this.activation = b.activation;
        if (inFeatures < 0) {
            throw new IllegalArgumentException("dense: inFeatures (K) must be positive, or 0 to take it from the input, got "
                    + inFeatures);
        }
        if (!Float.isFinite(alpha)) {
            throw new IllegalArgumentException("dense: alpha must be finite, got " + alpha);
        }
        if (!Float.isFinite(beta)) {
            throw new IllegalArgumentException("dense: beta must be finite, got " + beta);
        }
        if (activation == null) {
            throw new IllegalArgumentException("dense: activation must not be null (use Activation.NONE)");
        }
        if (bias != null) {
            if (bias.rank() > 2) {
                throw new IllegalArgumentException("dense: bias C " + bias + " has rank " + bias.rank()
                        + "; Gemm's C is unidirectionally broadcast to [M, N], so its rank is at most 2");
            }
            int last = bias.dim(-1);
            if (last != 1 && last != units) {
                throw new IllegalArgumentException("dense: bias C " + bias + " has last dimension " + last
                        + ", which is neither 1 nor units N=" + units);
            }
        }
    }

    /**
     * A PyTorch-style linear layer: weights {@code [units, K]} ({@code transB}), K from the
     * input, bias {@code [units]} if {@code bias}, then the activation.
     */
    public static Dense linear(int units, boolean bias, Activation activation) {
        return builder(units).transB(true).bias(bias).activation(activation).build();
    }

    /** {@link #linear(int, boolean, Activation)} with K fixed to {@code inFeatures}. */
    public static Dense linear(int inFeatures, int units, boolean bias, Activation activation) {
        return builder(units).inFeatures(inFeatures).transB(true).bias(bias).activation(activation).build();
    }

    /**
     * A builder for {@code units} output features (N): no transposes, alpha = beta = 1, a bias
     * {@code [N]}, no activation, K from the input, until set.
     */
    public static Builder builder(int units) {
        return new Builder(units);
    }

    /**
     * The GEMM resolved for one input shape: every size the kernels and the references need.
     * The bias strides say where {@code C[m, n]} is after broadcasting: element
     * {@code m * biasRowStride + n * biasColStride} of C's data (0 along a broadcast dimension).
     */
    public record Geometry(int m, int k, int n, boolean transA, boolean transB, float alpha, float beta,
            Shape bias, int biasRowStride, int biasColStride, Activation activation) {
        /** Whether there is a bias C. */
        public boolean hasBias() {
            return bias != null;
        }

        public Shape inputShape() {
            return transA ? Shape.of(k, m) : Shape.of(m, k);
        }

        public Shape weightShape() {
            return transB ? Shape.of(n, k) : Shape.of(k, n);
        }

        public Shape outputShape() {
            return Shape.of(m, n);
        }
    }

    /** Resolves and validates this layer for input A. */
    public Geometry geometry(Shape input) {
        Objects.requireNonNull(input, "dense: input shape");
        if (input.rank() != 2) {
            throw new IllegalArgumentException("dense: input A must be rank 2 (" + (transA ? "[K, M] with transA" : "[M, K]")
                    + "), got shape " + input + " of rank " + input.rank());
        }
        int m = transA ? input.dim(1) : input.dim(0);
        int k = transA ? input.dim(0) : input.dim(1);
        if (inFeatures != 0 && k != inFeatures) {
            Shape expected = transB ? Shape.of(units, inFeatures) : Shape.of(inFeatures, units);
            throw new IllegalArgumentException("dense: input " + input + (transA ? " (transA)" : "") + " has K=" + k
                    + " but weight expects " + expected + " (K=" + inFeatures + ")");
        }
        int rowStride = 0;
        int colStride = 0;
        if (bias != null) {
            int cRows = bias.rank() == 2 ? bias.dim(0) : 1;
            int cCols = bias.dim(-1);
            if (cRows != 1 && cRows != m) {
                throw new IllegalArgumentException("dense: bias C " + bias + " is not unidirectionally broadcastable to the output "
                        + Shape.of(m, units) + " (input " + input + ", first dimension " + cRows + " is neither 1 nor M=" + m + ")");
            }
            colStride = cCols == 1 ? 0 : 1;
            rowStride = cRows == 1 ? 0 : cCols;
        }
        Geometry g = new Geometry(m, k, units, transA, transB, alpha, beta, bias, rowStride, colStride, activation);
        // Shape's constructor checks that the element counts fit in a long.
        g.outputShape();
        g.weightShape();
        return g;
    }

    /** Output shape {@code [M, N]} for input A. */
    public Shape outputShape(Shape input) {
        return geometry(input).outputShape();
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        return outputShape(inputs.get(0));
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        requireArity(inputs);
        Geometry g = geometry(inputs.get(0));
        List<Shape> shapes = new ArrayList<>(2);
        shapes.add(g.weightShape());
        if (bias != null) {
            shapes.add(bias);
        }
        return List.copyOf(shapes);
    }

    @Override
    public List<String> parameterNames(List<Shape> inputs) {
        return bias != null ? List.of("weight", "bias") : List.of("weight");
    }

    /**
     * The weight uniform in +-sqrt(6 / K) (He, with the fan-in K whichever way B is stored), the
     * bias uniform in +-0.1.
     */
    @Override
    public void initParameter(List<Shape> inputs, int index, Tensor t, long seed) {
        if (index == 0) {
            float a = (float) Math.sqrt(6.0 / geometry(inputs.get(0)).k());
            t.fillUniform(seed, -a, a);
        } else {
            t.fillUniform(seed, -0.1f, 0.1f);
        }
    }

    /** FLOPs of one run: {@code 2 * M * N * K}. */
    @Override
    public long flops(List<Shape> inputs) {
        requireArity(inputs);
        Geometry g = geometry(inputs.get(0));
        try {
            return Math.multiplyExact(Math.multiplyExact(2L * g.m(), (long) g.n()), (long) g.k());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("dense: FLOP count of " + describe(inputs) + " overflows a long", e);
        }
    }

    /**
     * The input gradient ({@link DenseGrad#data}), the weight gradient ({@link DenseGrad#weight})
     * and, with a bias C, its gradient: beta times dy summed over the dimensions C is broadcast
     * along. Each also reads the output when a ReLU is fused.
     */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        requireArity(inputs);
        Shape in = inputs.get(0);
        geometry(in);
        List<Gradient> g = new ArrayList<>(3);
        g.add(DenseGrad.data(this, in).ofInput(0));
        g.add(DenseGrad.weight(this, in).ofParameter(0));
        if (bias != null) {
            Shape aligned = bias.rank() == 2 ? bias : Shape.of(1, bias.dim(0));
            g.add(BroadcastSum.of("dense_grad_bias", this, inputs, bias).aligned(aligned)
                    .masked(activation == Activation.RELU).scale(beta).build().ofParameter(1));
        }
        return g;
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        return describe(inputs.get(0));
    }

    /** The case as a string, e.g. {@code dense(m=1,k=9216,n=4096,transB,c=4096,relu)}. */
    public String describe(Shape input) {
        StringBuilder sb = new StringBuilder("dense(");
        if (input.rank() == 2) {
            sb.append("m=").append(transA ? input.dim(1) : input.dim(0)).append(",k=")
                    .append(transA ? input.dim(0) : input.dim(1)).append(',');
        } else {
            sb.append("in=").append(input).append(',');
        }
        sb.append(hyperParameters()).append(')');
        return sb.toString();
    }

    private String hyperParameters() {
        StringBuilder sb = new StringBuilder();
        sb.append("n=").append(units);
        if (inFeatures != 0) {
            sb.append(",inFeatures=").append(inFeatures);
        }
        if (transA) {
            sb.append(",transA");
        }
        if (transB) {
            sb.append(",transB");
        }
        sb.append(bias == null ? ",nobias" : ",c=" + bias);
        if (alpha != 1f) {
            sb.append(",alpha=").append(number(alpha));
        }
        if (beta != 1f) {
            sb.append(",beta=").append(number(beta));
        }
        if (activation != Activation.NONE) {
            sb.append(',').append(activation.id());
        }
        return sb.toString();
    }

    /** 2 rather than 2.0, as a person would write a case. */
    private static String number(float v) {
        return v == Math.rint(v) && Math.abs(v) < 1e7 ? Integer.toString((int) v) : Float.toString(v);
    }

    @Override
    public String name() {
        return "dense";
    }

    /** N, the output features. */
    public int units() {
        return units;
    }

    /** K if fixed at construction, else 0 (taken from the input). */
    public int inFeatures() {
        return inFeatures;
    }

    public boolean transA() {
        return transA;
    }

    public boolean transB() {
        return transB;
    }

    public float alpha() {
        return alpha;
    }

    public float beta() {
        return beta;
    }

    /** The shape of C, or null when there is no bias. */
    public Shape biasShape() {
        return bias;
    }

    public boolean hasBias() {
        return bias != null;
    }

    public Activation activation() {
        return activation;
    }

    /** A builder initialised with this layer's settings. */
    public Builder toBuilder() {
        Builder b = new Builder(units);
        b.inFeatures = inFeatures;
        b.transA = transA;
        b.transB = transB;
        b.alpha = alpha;
        b.beta = beta;
        b.bias = bias != null;
        b.biasShape = bias;
        b.activation = activation;
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dense d && d.units == units && d.inFeatures == inFeatures && d.transA == transA
                && d.transB == transB && Float.compare(d.alpha, alpha) == 0 && Float.compare(d.beta, beta) == 0
                && Objects.equals(d.bias, bias) && d.activation == activation;
    }

    @Override
    public int hashCode() {
        return Objects.hash(units, inFeatures, transA, transB, alpha, beta, bias, activation);
    }

    @Override
    public String toString() {
        return "dense(" + hyperParameters() + ")";
    }

    /** Builds a {@link Dense}; {@link #build()} validates every setting. */
    public static final class Builder {
        private final int units;
        private int inFeatures;
        private boolean transA;
        private boolean transB;
        private float alpha = 1f;
        private float beta = 1f;
        private boolean bias = true;
        private Shape biasShape;
        private Activation activation = Activation.NONE;

        private Builder(int units) {
            this.units = units;
        }

        /** Fixes K; inputs with another K are rejected (0, the default, takes K from the input). */
        public Builder inFeatures(int k) {
            this.inFeatures = k;
            return this;
        }

        /** A is {@code [K, M]} and is transposed. */
        public Builder transA(boolean t) {
            this.transA = t;
            return this;
        }

        /** B is {@code [N, K]} and is transposed (PyTorch Linear's layout). */
        public Builder transB(boolean t) {
            this.transB = t;
            return this;
        }

        /** Scale of {@code A' * B'}; must be finite. */
        public Builder alpha(float a) {
            this.alpha = a;
            return this;
        }

        /** Scale of C; must be finite. */
        public Builder beta(float b) {
            this.beta = b;
            return this;
        }

        /** A bias of shape {@code [N]} if true, none if false. */
        public Builder bias(boolean b) {
            this.bias = b;
            this.biasShape = null;
            return this;
        }

        /** A bias C of this shape, broadcast to {@code [M, N]} as ONNX does; null for none. */
        public Builder bias(Shape c) {
            this.bias = c != null;
            this.biasShape = c;
            return this;
        }

        public Builder activation(Activation a) {
            this.activation = a;
            return this;
        }

        public Dense build() {
            return new Dense(this);
        }
    }
}
