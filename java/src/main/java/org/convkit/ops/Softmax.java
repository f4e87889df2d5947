package org.convkit.ops;

import java.util.List;

import org.convkit.ops.grad.Gradient;
import org.convkit.ops.grad.SoftmaxGrad;
import org.convkit.tensor.Shape;

/**
 * ONNX {@code Softmax} (opset 13 semantics): along one {@code axis} of a tensor of any rank,
 * {@code y = exp(x - max) / sum(exp(x - max))}, the max and the sum taken over that axis only
 * (opset 11 and earlier flattened every axis from {@code axis} on; this op does not). The axis
 * defaults to -1 (the last); negative axes count from the end. Subtracting the row's maximum keeps
 * it exact for large inputs (ONNX's {@code test_softmax_large_number}: 10000 and above give no
 * overflow and no NaN).
 *
 * <p>The kernels view the input as {@code [outer, length, inner]}: {@code length} the axis,
 * {@code outer} the product of the dimensions before it, {@code inner} of those after it.
 *
 * <p>FLOPs: 5 per element (compare for the max, subtract, exp, add, divide).
 */
public final class Softmax implements Op {
    private final int axis;

    private Softmax(int axis) {
        if (axis < -Shape.MAX_RANK || axis >= Shape.MAX_RANK) {
            throw new IllegalArgumentException("softmax: axis must be in [" + -Shape.MAX_RANK + ", "
                    + (Shape.MAX_RANK - 1) + "] (tensors have rank " + Shape.MAX_RANK + " at most), got " + axis);
        }
        this.axis = axis;
    }

    /** Softmax over the last axis (ONNX's default, -1). */
    public static Softmax lastAxis() {
        return new Softmax(-1);
    }

    /** Softmax over {@code axis}; negative counts from the end; checked against each input's rank. */
    public static Softmax of(int axis) {
        return new Softmax(axis);
    }

    /** The axis as given (possibly negative). */
    public int axis() {
        return axis;
    }

    /**
     * The input as {@code [outer, length, inner]}.
     *
     * @param axis the axis resolved to [0, rank)
     * @param outer product of the dimensions before the axis
     * @param length the axis' dimension: the length of each softmax
     * @param inner product of the dimensions after the axis: the distance between a row's elements
     */
    public record Geometry(int axis, long outer, int length, long inner) {
        /** Number of softmax rows. */
        public long rows() {
            return outer * inner;
        }
    }

    /** Resolves the axis against this input, rejecting it if the input has no such axis. */
    public Geometry geometry(Shape input) {
        if (input == null) {
            throw new IllegalArgumentException("softmax: input shape must not be null");
        }
        int r = input.rank();
        if (axis < -r || axis >= r) {
            throw new IllegalArgumentException("softmax: axis " + axis + " is out of range for input shape " + input
                    + " of rank " + r + " (valid: " + -r + " to " + (r - 1) + ")");
        }
        int a = axis < 0 ? axis + r : axis;
        long outer = 1;
        for (int i = 0; i < a; i++) {
            outer *= input.dim(i);
        }
        long inner = 1;
        for (int i = a + 1; i < r; i++) {
            inner *= input.dim(i);
        }
        return new Geometry(a, outer, input.dim(a), inner);
    }

    @Override
    public String name() {
        return "softmax";
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        geometry(inputs.get(0));
        return inputs.get(0);
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        outputShape(inputs);
        return List.of();
    }

    /** 5 per element, see the class comment. */
    @Override
    public long flops(List<Shape> inputs) {
        try {
            return Math.multiplyExact(outputShape(inputs).elementCount(), 5L);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("softmax: FLOP count of " + describe(inputs) + " overflows a long", e);
        }
    }

    /** The input gradient, {@link SoftmaxGrad}, which reads dy and the output. */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        outputShape(inputs);
        return List.of(new SoftmaxGrad(this, inputs.get(0)).ofInput(0));
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        return "softmax(in=" + inputs.get(0) + ",axis=" + axis + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Softmax s && s.axis == axis;
    }

    @Override
    public int hashCode() {
        return Integer.hashCode(axis);
    }

    @Override
    public String toString() {
        return "softmax(axis=" + axis + ")";
    }
}
