package org.convkit.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.convkit.ops.grad.ConcatGrad;
import org.convkit.ops.grad.Gradient;
import org.convkit.tensor.Shape;

/**
 * Concatenation of one or more tensors along {@code axis}, as ONNX Concat defines it: every input
 * has the same rank and the same size in every dimension but {@code axis}; the output's size
 * along {@code axis} is the sum of the inputs'. {@code axis} may be negative (counted from the
 * end: -1 is the last dimension) and must lie in {@code [-rank, rank - 1]}. A GoogLeNet inception
 * module concatenates its branches on the channel axis, {@code axis = 1} of NCHW.
 *
 * <p>Concat is variadic: it takes any number of inputs from 1 up (ONNX allows a single input,
 * which is then copied). {@link #arity()} answers that minimum.
 *
 * <p>Viewed row-major, each input is a block of {@code outer} rows of {@code inner} elements,
 * where {@code outer} is the product of the dimensions before the axis and {@code inner} the
 * input's size along the axis times the product of the dimensions after it; input i's rows land
 * in the output's rows at a column offset equal to the inner sizes of inputs 0..i-1 (see
 * {@link Geometry}). Pure data movement: zero FLOPs.
 */
public final class Concat implements Op {
    private final int axis;

    private Concat(int axis) {
        if (axis < -Shape.MAX_RANK || axis >= Shape.MAX_RANK) {
            throw new IllegalArgumentException("concat: axis " + axis + " is outside [-" + Shape.MAX_RANK + ", "
                    + (Shape.MAX_RANK - 1) + "] for every supported rank");
        }
        this.axis = axis;
    }

    /** Concatenation along {@code axis} (negative counts from the end). */
    public static Concat of(int axis) {
        return new Concat(axis);
    }

    /** The axis as given (possibly negative). */
    public int axis() {
        return axis;
    }

    @Override
    public String name() {
        return "concat";
    }

    /** The least number of inputs; concat takes any number from there up. */
    @Override
    public int arity() {
        return 1;
    }

    /** Accepts any number of inputs from {@link #arity()} up. */
    @Override
    public void requireArity(List<Shape> inputs) {
        if (inputs.size() < arity()) {
            throw new IllegalArgumentException("concat: expected at least " + arity() + " input, got " + inputs.size()
                    + " " + inputs);
        }
    }

    /**
     * The concatenation resolved for a list of input shapes, as the copy kernels see it.
     *
     * @param axis the axis in {@code [0, rank)}
     * @param outer product of the dimensions before the axis (rows of every input and the output)
     * @param inners per input, its row length: size along the axis times the product of the
     *     dimensions after it
     * @param offsets per input, where its rows start inside an output row
     * @param outInner the output's row length (the sum of {@code inners})
     */
    public record Geometry(int axis, long outer, long[] inners, long[] offsets, long outInner, Shape output) {
        public Geometry {
            inners = inners.clone();
            offsets = offsets.clone();
        }

        @Override
        public long[] inners() {
            return inners.clone();
        }

        @Override
        public long[] offsets() {
            return offsets.clone();
        }

        /** Row length of input {@code i}. */
        public long inner(int i) {
            return inners[i];
        }

        /** Row offset of input {@code i} inside an output row. */
        public long offset(int i) {
            return offsets[i];
        }

        public int inputCount() {
            return inners.length;
        }
    }

    /** Resolves and validates the concatenation of these inputs. */
    public Geometry geometry(List<Shape> inputs) {
        requireArity(inputs);
        Shape first = Objects.requireNonNull(inputs.get(0), "concat: input 0 shape");
        int rank = first.rank();
        if (axis < -rank || axis >= rank) {
            throw new IllegalArgumentException("concat: axis " + axis + " is outside [" + -rank + ", " + (rank - 1)
                    + "] for inputs of rank " + rank + " (input 0 is " + first + ")");
        }
        int ax = axis < 0 ? axis + rank : axis;
        long total = 0;
        for (int i = 0; i < inputs.size(); i++) {
            Shape s = Objects.requireNonNull(inputs.get(i), "concat: input " + i + " shape");
            if (s.rank() != rank) {
                throw new IllegalArgumentException("concat: input " + i + " " + s + " has rank " + s.rank()
                        + ", input 0 " + first + " has rank " + rank + " (all inputs must have the same rank)");
            }
            for (int k = 0; k < rank; k++) {
                if (k != ax && s.dim(k) != first.dim(k)) {
                    throw new IllegalArgumentException("concat: input " + i + " " + s + " differs from input 0 " + first
                            + " in dimension " + k + " (" + s.dim(k) + " vs " + first.dim(k)
                            + "); only the axis " + ax + " may differ");
                }
            }
            total += s.dim(ax);
        }
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("concat: the output's size along axis " + ax + " would be " + total
                    + ", more than a dimension holds (2^31 - 1); inputs " + inputs);
        }
        int[] out = first.dims();
        out[ax] = (int) total;
        Shape output = Shape.of(out);
        long outer = 1;
        for (int k = 0; k < ax; k++) {
            outer *= first.dim(k);
        }
        long after = 1;
        for (int k = ax + 1; k < rank; k++) {
            after *= first.dim(k);
        }
        long[] inners = new long[inputs.size()];
        long[] offsets = new long[inputs.size()];
        long offset = 0;
        for (int i = 0; i < inputs.size(); i++) {
            inners[i] = inputs.get(i).dim(ax) * after;
            offsets[i] = offset;
            offset += inners[i];
        }
        return new Geometry(ax, outer, inners, offsets, offset, output);
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        return geometry(inputs).output();
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        geometry(inputs);
        return List.of();
    }

    /** Zero: concat only moves data. */
    @Override
    public long flops(List<Shape> inputs) {
        geometry(inputs);
        return 0;
    }

    /** Each input's gradient: its slice of dy ({@link ConcatGrad}), reading dy only. */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        geometry(inputs);
        List<Gradient> g = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            g.add(new ConcatGrad(this, inputs, i).ofInput(i));
        }
        return g;
    }

    /** The case as a string, e.g. {@code concat(axis=1,1x64x28x28+1x128x28x28)}. */
    @Override
    public String describe(List<Shape> inputs) {
        StringBuilder sb = new StringBuilder("concat(axis=").append(axis);
        for (int i = 0; i < inputs.size(); i++) {
            sb.append(i == 0 ? ',' : '+').append(inputs.get(i));
        }
        return sb.append(')').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Concat c && c.axis == axis;
    }

    @Override
    public int hashCode() {
        return Integer.hashCode(axis);
    }

    @Override
    public String toString() {
        return "concat(axis=" + axis + ")";
    }
}
