package org.convkit.ops;

import java.util.List;
import java.util.Objects;

import org.convkit.ops.grad.Gradient;
import org.convkit.tensor.Shape;

/**
 * ONNX {@code Flatten}: reshapes an input of rank r to 2-D
 * {@code [d0 * ... * d(axis-1), d(axis) * ... * d(r-1)]}, elements in the same row-major order.
 * {@code axis} is in {@code [-r, r]}, negative counting from the end; an empty product is 1, so
 * axis 0 gives {@code [1, all]} and axis r gives {@code [all, 1]}. The default axis is 1 (keep
 * the batch, flatten the rest: what sits between a conv stack and a dense layer).
 *
 * <p>No arithmetic: 0 FLOPs. Bytes moved: the input read once and the output written once.
 */
public final class Flatten implements Op {
    /** ONNX's default: {@code axis = 1}. */
    public static final Flatten DEFAULT = new Flatten(1);

    private final int axis;

    private Flatten(int axis) {
        if (axis < -Shape.MAX_RANK || axis > Shape.MAX_RANK) {
            throw new IllegalArgumentException("flatten: axis " + axis + " is out of range for every shape (rank at most "
                    + Shape.MAX_RANK + ", so axis in [-" + Shape.MAX_RANK + ", " + Shape.MAX_RANK + "])");
        }
        this.axis = axis;
    }

    /** Flatten at {@code axis} (checked against the input's rank by {@link #outputShape}). */
    public static Flatten axis(int axis) {
        return new Flatten(axis);
    }

    /** The axis normalised for an input of this rank, in [0, rank]. */
    public int resolvedAxis(Shape input) {
        Objects.requireNonNull(input, "flatten: input shape");
        int r = input.rank();
        if (axis < -r || axis > r) {
            throw new IllegalArgumentException("flatten: axis " + axis + " is out of range [-" + r + ", " + r
                    + "] for input " + input + " of rank " + r);
        }
        return axis < 0 ? axis + r : axis;
    }

    /** Output shape {@code [prod(d[0:axis]), prod(d[axis:])]}. */
    public Shape outputShape(Shape input) {
        int a = resolvedAxis(input);
        long outer = 1;
        for (int i = 0; i < a; i++) {
            outer *= input.dim(i);
        }
        long inner = input.elementCount() / outer;
        if (outer > Integer.MAX_VALUE || inner > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("flatten: output " + outer + "x" + inner + " of input " + input + " at axis "
                    + axis + " has a dimension of 2^31 or more");
        }
        return Shape.of((int) outer, (int) inner);
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        return outputShape(inputs.get(0));
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        requireArity(inputs);
        outputShape(inputs.get(0));
        return List.of();
    }

    /** 0: a copy does no arithmetic. */
    @Override
    public long flops(List<Shape> inputs) {
        outputShape(inputs);
        return 0;
    }

    /** The input gradient: dy reshaped to the input's shape (a copy, as the forward is), reading dy only. */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        outputShape(inputs);
        return List.of(Gradient.ofInput(0, Reshape.to(inputs.get(0).dims()), Gradient.Operand.dy()));
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        return "flatten(in=" + inputs.get(0) + ",axis=" + axis + ")";
    }

    @Override
    public String name() {
        return "flatten";
    }

    /** The axis as given (possibly negative). */
    public int axis() {
        return axis;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Flatten f && f.axis == axis;
    }

    @Override
    public int hashCode() {
        return Integer.hashCode(axis);
    }

    @Override
    public String toString() {
        return "flatten(axis=" + axis + ")";
    }
}
