package org.convkit.ops;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

import org.convkit.ops.grad.BroadcastSum;
import org.convkit.ops.grad.Gradient;
import org.convkit.tensor.Shape;

/**
 * An element-wise binary op, {@code y = act(a (op) b)}, with ONNX multidirectional (numpy)
 * broadcasting: the two shapes are aligned at their last dimension, a missing leading dimension
 * counts as 1, and in each dimension the sizes must be equal or one of them 1 (which is then
 * repeated). Examples: {@code [N,C,H,W] + [N,C,H,W]} (a ResNet residual), {@code [N,C,H,W] *
 * [N,C,1,1]} (a squeeze-and-excitation channel scale), {@code [3,4,5] + [5]}.
 *
 * <p>Two kinds, named as ONNX names the operators: {@code add} (ONNX Add) and {@code mul} (ONNX
 * Mul). A fused {@link Activation} is applied after the arithmetic, e.g. the "add + ReLU" that
 * ends a ResNet residual unit.
 *
 * <p>FLOPs: one per output element (the add or the multiply); the activation is not counted, as
 * in {@link Conv2d}. There are no parameters: both arguments are activation inputs.
 */
public final class Binary implements Op {
    /** The arithmetic; the code is what kernels receive. */
    public enum Kind {
        /** {@code a + b} (ONNX Add). */
        ADD(0),
        /** {@code a * b} (ONNX Mul). */
        MUL(1);

        private final int code;

        Kind(int code) {
            this.code = code;
        }

        /** The integer kernels receive (the same in every kernel language). */
        public int code() {
            return code;
        }

        /** Lower-case name, which is also the op's name, e.g. {@code add}. */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Applies the arithmetic in double precision, as the references do. */
        public double apply(double a, double b) {
            return this == ADD ? a + b : a * b;
        }
    }

    private final Kind kind;
    private final Activation activation;

    private Binary(Kind kind, Activation activation) {
        if (kind == null) {
            throw new IllegalArgumentException("binary: kind must not be null (ADD or MUL)");
        }
        if (activation == null) {
            throw new IllegalArgumentException(kind.id() + ": activation must not be null (use Activation.NONE)");
        }
        this.kind = kind;
        this.activation = activation;
    }

    /** {@code kind} followed by {@code activation}. */
    public static Binary of(Kind kind, Activation activation) {
        return new Binary(kind, activation);
    }

    /** {@code a + b}. */
    public static Binary add() {
        return new Binary(Kind.ADD, Activation.NONE);
    }

    /** {@code act(a + b)}, e.g. the residual add + ReLU of ResNet. */
    public static Binary add(Activation activation) {
        return new Binary(Kind.ADD, activation);
    }

    /** {@code a * b}. */
    public static Binary mul() {
        return new Binary(Kind.MUL, Activation.NONE);
    }

    /** {@code act(a * b)}. */
    public static Binary mul(Activation activation) {
        return new Binary(Kind.MUL, activation);
    }

    public Kind kind() {
        return kind;
    }

    public Activation activation() {
        return activation;
    }

    @Override
    public String name() {
        return kind.id();
    }

    @Override
    public int arity() {
        return 2;
    }

    /**
     * The broadcast resolved for two input shapes, collapsed for the kernels: dimensions of size
     * 1 in the output are dropped, and neighbouring dimensions are merged wherever both inputs
     * walk them contiguously or both repeat them, so that equal shapes become one dimension and
     * a channel scale {@code [N,C,H,W] * [N,C,1,1]} becomes {@code [N*C, H*W]}. No collapsed
     * dimension is repeated by both inputs (it would have size 1 and be dropped), and an output of
     * one element is the equal-shape layout {@code [1]}.
     *
     * @param dims the collapsed output dimensions (row-major, rank 1 to {@link Shape#MAX_RANK})
     * @param aStrides per collapsed dimension, the element stride of input a (0 where a repeats)
     * @param bStrides the same for input b
     */
    public record Layout(long[] dims, long[] aStrides, long[] bStrides) {
        public Layout {
            dims = dims.clone();
            aStrides = aStrides.clone();
            bStrides = bStrides.clone();
        }

        public int rank() {
            return dims.length;
        }

        /** Whether both inputs have the output's shape (no broadcast at all): the fast path. */
        public boolean sameShape() {
            return dims.length == 1 && aStrides[0] == 1 && bStrides[0] == 1;
        }

        @Override
        public long[] dims() {
            return dims.clone();
        }

        @Override
        public long[] aStrides() {
            return aStrides.clone();
        }

        @Override
        public long[] bStrides() {
            return bStrides.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Layout l && Arrays.equals(dims, l.dims) && Arrays.equals(aStrides, l.aStrides)
                    && Arrays.equals(bStrides, l.bStrides);
        }

        @Override
        public int hashCode() {
            return Objects.hash(Arrays.hashCode(dims), Arrays.hashCode(aStrides), Arrays.hashCode(bStrides));
        }

        @Override
        public String toString() {
            return "Layout[dims=" + Arrays.toString(dims) + ", a=" + Arrays.toString(aStrides) + ", b="
                    + Arrays.toString(bStrides) + "]";
        }
    }

    /** The output shape of {@code a (op) b} under multidirectional broadcasting. */
    public Shape outputShape(Shape a, Shape b) {
        Objects.requireNonNull(a, name() + ": input a shape");
        Objects.requireNonNull(b, name() + ": input b shape");
        int rank = Math.max(a.rank(), b.rank());
        int[] out = new int[rank];
        for (int k = 0; k < rank; k++) {
            int da = dimAligned(a, rank, k);
            int db = dimAligned(b, rank, k);
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(name() + ": input a " + a + " and input b " + b
                        + " are not broadcastable: output dimension " + k + " is " + da + " in a and " + db
                        + " in b (sizes must be equal or one of them 1, shapes aligned at the last dimension)");
            }
            out[k] = Math.max(da, db);
        }
        return Shape.of(out);
    }

    /** Dimension {@code k} of {@code s} right-aligned to {@code rank} dimensions (1 where s has none). */
    private static int dimAligned(Shape s, int rank, int k) {
        int j = k - (rank - s.rank());
        return j < 0 ? 1 : s.dim(j);
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        return outputShape(inputs.get(0), inputs.get(1));
    }

    /** The collapsed broadcast of two input shapes (see {@link Layout}). */
    public Layout layout(Shape a, Shape b) {
        Shape out = outputShape(a, b);
        int rank = out.rank();
        long[] sa = contiguousBroadcastStrides(a, out);
        long[] sb = contiguousBroadcastStrides(b, out);
        long[] dims = new long[rank];
        long[] ra = new long[rank];
        long[] rb = new long[rank];
        int r = 0;
        for (int k = 0; k < rank; k++) {
            long d = out.dim(k);
            if (d == 1) {
                continue; // contributes index 0 only
            }
            // Merge with the previous (outer) kept dimension when both inputs continue it seamlessly.
            if (r > 0 && ra[r - 1] == sa[k] * d && rb[r - 1] == (long) sb[k] * d) {
                dims[r - 1] *= d;
                ra[r - 1] = sa[k];
                rb[r - 1] = sb[k];
            } else {
                dims[r] = d;
                ra[r] = sa[k];
                rb[r] = sb[k];
                r++;
            }
        }
        if (r == 0) {
            // Every dimension is 1: both inputs hold one element, which is the equal-shape case.
            return new Layout(new long[] {1}, new long[] {1}, new long[] {1});
        }
        return new Layout(Arrays.copyOf(dims, r), Arrays.copyOf(ra, r), Arrays.copyOf(rb, r));
    }

    /** Per output dimension, the element stride of {@code s} stored row-major, 0 where s repeats. */
    private static long[] contiguousBroadcastStrides(Shape s, Shape out) {
        int rank = out.rank();
        long[] strides = new long[rank];
        long stride = 1;
        for (int k = rank - 1; k >= 0; k--) {
            int d = dimAligned(s, rank, k);
            strides[k] = d == 1 ? 0 : stride;
            stride *= d;
        }
        return strides;
    }

    /** The collapsed broadcast of the two inputs (see {@link Layout}). */
    public Layout layout(List<Shape> inputs) {
        requireArity(inputs);
        return layout(inputs.get(0), inputs.get(1));
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        requireArity(inputs);
        outputShape(inputs);
        return List.of();
    }

    /** One FLOP per output element (see the class comment). */
    @Override
    public long flops(List<Shape> inputs) {
        return outputShape(inputs).elementCount();
    }

    /**
     * The gradients of both inputs: dy (masked by y > 0 with a fused ReLU), times the other input for
     * {@code mul}, summed over the dimensions the input was broadcast along ({@link BroadcastSum}).
     * An {@code add} input of the output's shape without a ReLU gets dy itself, copied (a
     * {@link Reshape} to the same shape), reading dy only.
     */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        Shape out = outputShape(inputs);
        List<Gradient> g = new ArrayList<>(2);
        for (int i = 0; i < 2; i++) {
            Shape s = inputs.get(i);
            if (kind == Kind.ADD && activation == Activation.NONE && s.equals(out)) {
                g.add(Gradient.ofInput(i, Reshape.to(s.dims()), Gradient.Operand.dy()));
                continue;
            }
            BroadcastSum.Builder b = BroadcastSum.of(name() + "_grad_" + (i == 0 ? "a" : "b"), this, inputs, s)
                    .aligned(aligned(s, out.rank())).masked(activation == Activation.RELU);
            if (kind == Kind.MUL) {
                b.times(Gradient.Operand.input(1 - i), aligned(inputs.get(1 - i), out.rank()));
            }
            g.add(b.build().ofInput(i));
        }
        return g;
    }

    /** {@code s} with leading 1s up to {@code rank} dimensions (right-aligned, as broadcasting aligns). */
    private static Shape aligned(Shape s, int rank) {
        int[] d = new int[rank];
        Arrays.fill(d, 1);
        System.arraycopy(s.dims(), 0, d, rank - s.rank(), s.rank());
        return Shape.of(d);
    }

    /** The case as a string, e.g. {@code add(a=1x256x56x56,b=1x256x56x56,relu)}. */
    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        return name() + "(a=" + inputs.get(0) + ",b=" + inputs.get(1) + suffix() + ")";
    }

    private String suffix() {
        return activation == Activation.NONE ? "" : "," + activation.id();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Binary b && b.kind == kind && b.activation == activation;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, activation);
    }

    @Override
    public String toString() {
        return activation == Activation.NONE ? name() : name() + "(" + activation.id() + ")";
    }
}
