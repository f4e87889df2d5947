package org.convkit.ops;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import org.convkit.ops.grad.Gradient;
import org.convkit.tensor.Shape;

/**
 * ONNX {@code Reshape} with a static target shape given at construction ({@code allowzero = 0}):
 * the same elements in the same row-major order, under new dimensions. In the target, a 0 copies
 * the input's dimension at the same index, and at most one -1 is inferred so that the element
 * count is kept; every other entry is positive. The element counts must match.
 *
 * <p>No arithmetic: 0 FLOPs. Bytes moved: the input read once and the output written once.
 */
public final class Reshape implements Op {
    private final int[] target;

    private Reshape(int[] target) {
        if (target.length == 0 || target.length > Shape.MAX_RANK) {
            throw new IllegalArgumentException("reshape: target shape " + Arrays.toString(target) + " must have rank 1.."
                    + Shape.MAX_RANK + ", got " + target.length);
        }
        int inferred = -1;
        for (int i = 0; i < target.length; i++) {
            if (target[i] < -1) {
                throw new IllegalArgumentException("reshape: target shape " + Arrays.toString(target) + " has " + target[i]
                        + " at index " + i + "; entries must be positive, 0 (copy the input's) or -1 (infer)");
            }
            if (target[i] == -1) {
                if (inferred >= 0) {
                    throw new IllegalArgumentException("reshape: target shape " + Arrays.toString(target)
                            + " has -1 at indices " + inferred + " and " + i + "; at most one dimension can be inferred");
                }
                inferred = i;
            }
        }
        this.target = target;
    }

    /** Reshape to {@code target} (0 = copy the input's dimension, -1 = infer one dimension). */
    public static Reshape to(int... target) {
        return new Reshape(Objects.requireNonNull(target, "reshape: target shape").clone());
    }

    /** Output shape: the target with its 0 and -1 entries resolved for this input. */
    public Shape outputShape(Shape input) {
        Objects.requireNonNull(input, "reshape: input shape");
        long count = input.elementCount();
        int[] out = target.clone();
        int inferred = -1;
        // The product of the known entries, saturated at Long.MAX_VALUE so that it cannot wrap.
        long known = 1;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == 0) {
                if (i >= input.rank()) {
                    throw new IllegalArgumentException("reshape: target shape " + Arrays.toString(target) + " has 0 at index "
                            + i + " but input " + input + " has rank " + input.rank() + ", no dimension to copy");
                }
                out[i] = input.dim(i);
            }
            if (out[i] == -1) {
                inferred = i;
            } else {
                known = known > Long.MAX_VALUE / out[i] ? Long.MAX_VALUE : known * out[i];
            }
        }
        if (inferred >= 0) {
            if (count % known != 0) {
                throw new IllegalArgumentException("reshape: input " + input + " (" + count + " elements) does not fit target "
                        + "shape " + Arrays.toString(target) + " (resolved " + Arrays.toString(out) + "): " + count
                        + " is not a multiple of " + product(known)
                        + ", the product of the other dimensions, so the -1 cannot be inferred");
            }
            long d = count / known;
            if (d > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("reshape: inferred dimension " + d + " of target " + Arrays.toString(target)
                        + " for input " + input + " is 2^31 or more");
            }
            out[inferred] = (int) d;
        } else if (known != count) {
            throw new IllegalArgumentException("reshape: input " + input + " (" + count + " elements) does not fit target "
                    + "shape " + Arrays.toString(target) + " (resolved " + Arrays.toString(out) + ", "
                    + product(known) + " elements)");
        }
        return Shape.of(out);
    }

    private static String product(long known) {
        return known == Long.MAX_VALUE ? "2^63 or more" : Long.toString(known);
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

    /** The input gradient: dy reshaped back to the input's shape (a copy, as the forward is), reading dy only. */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        outputShape(inputs);
        return List.of(Gradient.ofInput(0, Reshape.to(inputs.get(0).dims()), Gradient.Operand.dy()));
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        return "reshape(in=" + inputs.get(0) + ",to=" + targetString() + ")";
    }

    /** The target as given, e.g. {@code [0,-1]}. */
    private String targetString() {
        return Arrays.toString(target).replace(" ", "");
    }

    @Override
    public String name() {
        return "reshape";
    }

    /** The target shape as given, with its 0 and -1 entries. */
    public int[] target() {
        return target.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Reshape r && Arrays.equals(r.target, target);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(target);
    }

    @Override
    public String toString() {
        return "reshape(to=" + targetString() + ")";
    }
}
