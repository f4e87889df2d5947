package org.convkit.ops;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

import org.convkit.ops.grad.ActivationGrad;
import org.convkit.ops.grad.Gradient;
import org.convkit.tensor.Shape;

/**
 * A standalone element-wise activation on a tensor of any shape, with the ONNX operators'
 * semantics (the output has the input's shape):
 *
 * <ul>
 *   <li>{@code relu}: {@code max(0, x)};</li>
 *   <li>{@code leaky_relu}: {@code x < 0 ? alpha * x : x};</li>
 *   <li>{@code sigmoid}: {@code 1 / (1 + exp(-x))}, evaluated in a form that never overflows;</li>
 *   <li>{@code tanh};</li>
 *   <li>{@code hard_sigmoid}: {@code max(0, min(1, alpha * x + beta))};</li>
 *   <li>{@code clip}: {@code min(max(x, min), max)}.</li>
 * </ul>
 * A NaN input gives a NaN output in every one of them (none is allowed to turn it into a bound).
 * PReLU, whose slope is a learned parameter, is {@link PRelu}. The {@link Activation} enum is the
 * separate, smaller set fused into the end of other ops.
 *
 * <p>FLOPs per element, one per arithmetic operation, a transcendental function counting one:
 * relu 1 (max), leaky_relu 2 (compare, multiply), sigmoid 3 (exp, add, divide), tanh 1,
 * hard_sigmoid 4 (multiply, add, two clamps), clip 2 (two clamps).
 */
public final class ActivationOp implements Op {
    /** The function; {@link #code()} is the integer the kernels receive. */
    public enum Kind {
        /** ONNX Relu: {@code max(0, x)}. */
        RELU(1, 1),
        /** ONNX LeakyRelu: {@code x < 0 ? alpha * x : x}. */
        LEAKY_RELU(2, 2),
        /** ONNX Sigmoid: {@code 1 / (1 + exp(-x))}. */
        SIGMOID(3, 3),
        /** ONNX Tanh. */
        TANH(4, 1),
        /** ONNX HardSigmoid: {@code max(0, min(1, alpha * x + beta))}. */
        HARD_SIGMOID(5, 4),
        /** ONNX Clip: {@code min(max(x, min), max)}. */
        CLIP(6, 2);

        private final int code;
        private final int flopsPerElement;

        Kind(int code, int flopsPerElement) {
            this.code = code;
            this.flopsPerElement = flopsPerElement;
        }

        /**
         * The integer the kernels receive ({@code CK_ACT_*} in {@code kernels/common/convkit.h});
         * RELU has the code of {@link Activation#RELU}.
         */
        public int code() {
            return code;
        }

        /** The op name, e.g. {@code leaky_relu}. */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final ActivationOp RELU = new ActivationOp(Kind.RELU, 0, 0);
    private static final ActivationOp SIGMOID = new ActivationOp(Kind.SIGMOID, 0, 0);
    private static final ActivationOp TANH = new ActivationOp(Kind.TANH, 0, 0);

    private final Kind kind;
    /** leaky_relu: the negative slope; hard_sigmoid: the slope; clip: the lower bound; else 0. */
    private final float alpha;
    /** hard_sigmoid: the offset; clip: the upper bound; else 0. */
    private final float beta;

    private ActivationOp(Kind kind, float alpha, float beta) {
        this.kind = kind;
        this.alpha = alpha;
        this.beta = beta;
    }

    /** ONNX {@code Relu}. */
    public static ActivationOp relu() {
        return RELU;
    }

    /** ONNX {@code LeakyRelu} with its default alpha, 0.01. */
    public static ActivationOp leakyRelu() {
        return leakyRelu(0.01f);
    }

    /** ONNX {@code LeakyRelu}: {@code x < 0 ? alpha * x : x}; alpha must be finite. */
    public static ActivationOp leakyRelu(float alpha) {
        if (!Float.isFinite(alpha)) {
            throw new IllegalArgumentException("leaky_relu: alpha must be finite, got " + alpha);
        }
        return new ActivationOp(Kind.LEAKY_RELU, alpha, 0);
    }

    /** ONNX {@code Sigmoid}. */
    public static ActivationOp sigmoid() {
        return SIGMOID;
    }

    /** ONNX {@code Tanh}. */
    public static ActivationOp tanh() {
        return TANH;
    }

    /** ONNX {@code HardSigmoid} with its defaults, alpha 0.2 and beta 0.5. */
    public static ActivationOp hardSigmoid() {
        return hardSigmoid(0.2f, 0.5f);
    }

    /** ONNX {@code HardSigmoid}: {@code max(0, min(1, alpha * x + beta))}; both must be finite. */
    public static ActivationOp hardSigmoid(float alpha, float beta) {
        if (!Float.isFinite(alpha)) {
            throw new IllegalArgumentException("hard_sigmoid: alpha must be finite, got " + alpha);
        }
        if (!Float.isFinite(beta)) {
            throw new IllegalArgumentException("hard_sigmoid: beta must be finite, got " + beta);
        }
        return new ActivationOp(Kind.HARD_SIGMOID, alpha, beta);
    }

    /**
     * ONNX {@code Clip} (opset 11 and later, bounds as constants): {@code min(max(x, min), max)}.
     * Either bound may be infinite (an absent ONNX bound is the infinity on its side); neither may
     * be NaN, and {@code min <= max}.
     */
    public static ActivationOp clip(float min, float max) {
        if (Float.isNaN(min)) {
            throw new IllegalArgumentException("clip: min must not be NaN");
        }
        if (Float.isNaN(max)) {
            throw new IllegalArgumentException("clip: max must not be NaN");
        }
        if (min > max) {
            throw new IllegalArgumentException("clip: min " + min + " is greater than max " + max);
        }
        return new ActivationOp(Kind.CLIP, min, max);
    }

    public Kind kind() {
        return kind;
    }

    /** The first parameter the kernels receive: leaky_relu's or hard_sigmoid's alpha, clip's min; else 0. */
    public float alpha() {
        return alpha;
    }

    /** The second parameter the kernels receive: hard_sigmoid's beta, clip's max; else 0. */
    public float beta() {
        return beta;
    }

    @Override
    public String name() {
        return kind.id();
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        if (inputs.get(0) == null) {
            throw new IllegalArgumentException(name() + ": input shape must not be null");
        }
        return inputs.get(0);
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        outputShape(inputs);
        return List.of();
    }

    /** See the class comment for the count per element. */
    @Override
    public long flops(List<Shape> inputs) {
        try {
            return Math.multiplyExact(outputShape(inputs).elementCount(), (long) kind.flopsPerElement);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(name() + ": FLOP count of " + describe(inputs) + " overflows a long", e);
        }
    }

    /** The input gradient, {@link ActivationGrad} (which reads the output where the derivative allows). */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        outputShape(inputs);
        return List.of(new ActivationGrad(this, inputs.get(0)).ofInput(0));
    }

    @Override
    public String describe(List<Shape> inputs) {
        return name() + "(in=" + outputShape(inputs) + hyperParameters() + ")";
    }

    private String hyperParameters() {
        return switch (kind) {
            case RELU, SIGMOID, TANH -> "";
            case LEAKY_RELU -> ",alpha=" + alpha;
            case HARD_SIGMOID -> ",alpha=" + alpha + ",beta=" + beta;
            case CLIP -> ",min=" + alpha + ",max=" + beta;
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ActivationOp a && a.kind == kind && Float.compare(a.alpha, alpha) == 0
                && Float.compare(a.beta, beta) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, alpha, beta);
    }

    @Override
    public String toString() {
        String p = hyperParameters();
        return name() + "(" + (p.isEmpty() ? "" : p.substring(1)) + ")";
    }
}
