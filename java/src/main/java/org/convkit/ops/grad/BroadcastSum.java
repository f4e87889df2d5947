package org.convkit.ops.grad;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import org.convkit.ops.Op;
import org.convkit.ops.grad.Gradient.Operand;
import org.convkit.tensor.Shape;

/**
 * A gradient that sums the output gradient over the dimensions its tensor was broadcast along:
 *
 * <pre>
 *   out[j] = scale * sum over the elements i of dy that j was broadcast to of  m(i) * dy[i] * f(i)
 * </pre>
 *
 * where {@code m(i)} is the mask of a fused ReLU ({@code y[i] > 0 ? 1 : 0}, read from the forward
 * output; 1 without one) and {@code f(i)} an optional factor broadcast to dy (the other operand of a
 * product: {@code a * b} gives {@code db = sum dy * a}), or its negative part {@code min(f, 0)} (the
 * slope of a PReLU: {@code dslope = sum dy * min(x, 0)}). Biases (a convolution's
 * {@code [OC]} summed over N, H, W), the operands of broadcasting element-wise ops, PReLU slopes
 * and the shift of a batch normalization are all this op.
 *
 * <p>Shapes are aligned to dy's rank: {@code alignedTarget} has dy's rank and each dimension either
 * dy's or 1 (a conv bias {@code [OC]} is aligned as {@code [1, OC, 1, 1]}); the output is the
 * target's own shape, which has the same elements. The factor is aligned the same way.
 *
 * <p><b>Determinism.</b> Each output element is one sum in a fixed order on every device (a fixed
 * tree of partial sums on the GPUs, a sequential double sum on the CPU), never atomics, so reruns
 * are bit-identical. FLOPs: 1 per element of dy, 2 with a factor.
 */
public final class BroadcastSum extends GradientOp {
    private final Shape alignedTarget;
    private final Shape alignedFactor;
    private final boolean masked;
    private final boolean negativePart;
    private final float scale;
    private final Layout layout;

    private BroadcastSum(Builder b) {
        super(b.name, b.forward, b.forwardInputs, b.operands(), b.target);
        this.alignedTarget = b.alignedTarget == null ? b.target : b.alignedTarget;
        this.alignedFactor = b.alignedFactor;
        this.masked = b.masked;
        this.negativePart = b.negativePart;
        this.scale = b.scale;
        Shape dy = forwardOutput();
        requireAligned("target", alignedTarget, dy);
        if (alignedTarget.elementCount() != b.target.elementCount()) {
            throw new IllegalArgumentException(name() + ": target " + b.target + " and its alignment " + alignedTarget
                    + " hold different element counts");
        }
        if (alignedFactor != null) {
            requireAligned("factor", alignedFactor, dy);
            Shape actual = operandShapes().get(operands().size() - 1);
            if (actual.elementCount() != alignedFactor.elementCount()) {
                throw new IllegalArgumentException(name() + ": factor " + actual + " and its alignment " + alignedFactor
                        + " hold different element counts");
            }
        }
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException(name() + ": scale must be finite, got " + scale);
        }
        this.layout = Layout.of(dy, alignedTarget, alignedFactor);
    }

    private void requireAligned(String what, Shape s, Shape dy) {
        if (s.rank() != dy.rank()) {
            throw new IllegalArgumentException(name() + ": aligned " + what + " " + s + " must have dy's rank " + dy.rank()
                    + " (dy " + dy + ")");
        }
        for (int k = 0; k < s.rank(); k++) {
            if (s.dim(k) != 1 && s.dim(k) != dy.dim(k)) {
                throw new IllegalArgumentException(name() + ": aligned " + what + " " + s + " is not broadcastable to dy "
                        + dy + ": dimension " + k + " is " + s.dim(k));
            }
        }
    }

    /**
     * A builder: {@code name} is the op's name (e.g. {@code conv2d_grad_bias}), {@code target} the
     * shape of the gradient (the bias, the broadcast operand).
     */
    public static Builder of(String name, Op forward, List<Shape> forwardInputs, Shape target) {
        return new Builder(name, forward, forwardInputs, target);
    }

    /** The target aligned to dy's rank. */
    public Shape alignedTarget() {
        return alignedTarget;
    }

    /** The factor aligned to dy's rank, or null without a factor. */
    public Shape alignedFactor() {
        return alignedFactor;
    }

    /** Whether a fused ReLU's mask is read (operand 1, the forward output). */
    public boolean masked() {
        return masked;
    }

    /** Whether the factor's negative part {@code min(f, 0)} is used instead of the factor. */
    public boolean negativePart() {
        return negativePart;
    }

    public float scale() {
        return scale;
    }

    /** The sum resolved for the kernels. */
    public Layout layout() {
        return layout;
    }

    @Override
    public long flops(List<Shape> inputs) {
        outputShape(inputs);
        return forwardOutput().elementCount() * (alignedFactor == null ? 1 : 2);
    }

    @Override
    protected String details() {
        StringBuilder sb = new StringBuilder("to=").append(alignedTarget);
        if (masked) {
            sb.append(",masked");
        }
        if (alignedFactor != null) {
            sb.append(negativePart ? ",times_min0=" : ",times=").append(alignedFactor);
        }
        if (scale != 1f) {
            sb.append(",scale=").append(scale);
        }
        return sb.toString();
    }

    /**
     * The sum for the kernels: dy's dimensions with those of size 1 dropped and neighbours merged
     * wherever dy, the target and the factor all walk them contiguously, split into the dimensions
     * the target keeps and those summed over; each list innermost first. Strides are in elements, 0
     * where a tensor repeats. Target element {@code j}, written in the kept dimensions' digits
     * (innermost first), starts at {@code sum digit * keptDy} in dy and {@code sum digit * keptFactor}
     * in the factor; the summed digits add {@code reducedDy} and {@code reducedFactor} likewise.
     *
     * @param count elements of the target
     * @param reduceCount terms of each sum
     */
    public record Layout(int[] keptDims, int[] keptDy, int[] keptFactor, int[] reducedDims, int[] reducedDy,
            int[] reducedFactor, long count, long reduceCount) {
        public Layout {
            keptDims = keptDims.clone();
            keptDy = keptDy.clone();
            keptFactor = keptFactor.clone();
            reducedDims = reducedDims.clone();
            reducedDy = reducedDy.clone();
            reducedFactor = reducedFactor.clone();
        }

        @Override
        public int[] keptDims() {
            return keptDims.clone();
        }

        @Override
        public int[] keptDy() {
            return keptDy.clone();
        }

        @Override
        public int[] keptFactor() {
            return keptFactor.clone();
        }

        @Override
        public int[] reducedDims() {
            return reducedDims.clone();
        }

        @Override
        public int[] reducedDy() {
            return reducedDy.clone();
        }

        @Override
        public int[] reducedFactor() {
            return reducedFactor.clone();
        }

        static Layout of(Shape dy, Shape target, Shape factor) {
            int rank = dy.rank();
            long[] sd = strides(dy, dy);
            long[] st = strides(target, dy);
            long[] sf = factor == null ? new long[rank] : strides(factor, dy);
            List<long[]> dims = new ArrayList<>(); // {size, dy stride, target stride, factor stride}, outermost first
            for (int k = 0; k < rank; k++) {
                long d = dy.dim(k);
                if (d == 1) {
                    continue;
                }
                long[] last = dims.isEmpty() ? null : dims.get(dims.size() - 1);
                if (last != null && last[1] == sd[k] * d && last[2] == st[k] * d && last[3] == sf[k] * d) {
                    last[0] *= d;
                    last[1] = sd[k];
                    last[2] = st[k];
                    last[3] = sf[k];
                } else {
                    dims.add(new long[] {d, sd[k], st[k], sf[k]});
                }
            }
            List<long[]> kept = new ArrayList<>();
            List<long[]> reduced = new ArrayList<>();
            for (int i = dims.size() - 1; i >= 0; i--) {
                (dims.get(i)[2] != 0 ? kept : reduced).add(dims.get(i));
            }
            long count = 1;
            for (long[] d : kept) {
                count *= d[0];
            }
            long reduceCount = 1;
            for (long[] d : reduced) {
                reduceCount *= d[0];
            }
            return new Layout(column(kept, 0), column(kept, 1), column(kept, 3), column(reduced, 0), column(reduced, 1),
                    column(reduced, 3), count, reduceCount);
        }

        /** Row-major element strides of {@code s} (aligned to {@code dy}) per dimension, 0 where s is 1. */
        private static long[] strides(Shape s, Shape dy) {
            long[] out = new long[dy.rank()];
            long stride = 1;
            for (int k = dy.rank() - 1; k >= 0; k--) {
                out[k] = s.dim(k) == 1 ? 0 : stride;
                stride *= s.dim(k);
            }
            return out;
        }

        private static int[] column(List<long[]> rows, int c) {
            int[] out = new int[rows.size()];
            for (int i = 0; i < out.length; i++) {
                // Every size and stride is below dy's element count, which the kernels cap at 2^31 - 1.
                out[i] = (int) Math.min(Integer.MAX_VALUE, rows.get(i)[c]);
            }
            return out;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Layout l && Arrays.equals(keptDims, l.keptDims) && Arrays.equals(keptDy, l.keptDy)
                    && Arrays.equals(keptFactor, l.keptFactor) && Arrays.equals(reducedDims, l.reducedDims)
                    && Arrays.equals(reducedDy, l.reducedDy) && Arrays.equals(reducedFactor, l.reducedFactor);
        }

        @Override
        public int hashCode() {
            return Objects.hash(Arrays.hashCode(keptDims), Arrays.hashCode(keptDy), Arrays.hashCode(reducedDims),
                    Arrays.hashCode(reducedDy));
        }

        @Override
        public String toString() {
            return "Layout[kept=" + Arrays.toString(keptDims) + ", reduced=" + Arrays.toString(reducedDims) + "]";
        }
    }

    /** Collects the settings of a {@link BroadcastSum}. */
    public static final class Builder {
        private final String name;
        private final Op forward;
        private final List<Shape> forwardInputs;
        private final Shape target;
        private Shape alignedTarget;
        private boolean masked;
        private Operand factor;
        private Shape alignedFactor;
        private boolean negativePart;
        private float scale = 1f;

        private Builder(String name, Op forward, List<Shape> forwardInputs, Shape target) {
            this.name = name;
            this.forward = forward;
            this.forwardInputs = List.copyOf(forwardInputs);
            this.target = Objects.requireNonNull(target, name + ": target shape");
        }

        /** The target aligned to dy's rank (default: the target itself). */
        public Builder aligned(Shape s) {
            this.alignedTarget = s;
            return this;
        }

        /** Reads the forward output and keeps only the terms where it is positive (a fused ReLU). */
        public Builder masked(boolean m) {
            this.masked = m;
            return this;
        }

        /** Multiplies each term by operand {@code f} (aligned to dy's rank as {@code aligned}). */
        public Builder times(Operand f, Shape aligned) {
            this.factor = f;
            this.alignedFactor = aligned;
            return this;
        }

        /** Multiplies by the factor's negative part {@code min(f, 0)} instead. */
        public Builder negativePart() {
            this.negativePart = true;
            return this;
        }

        /** Multiplies the sum by {@code s}. */
        public Builder scale(float s) {
            this.scale = s;
            return this;
        }

        List<Operand> operands() {
            List<Operand> ops = new ArrayList<>(List.of(Operand.dy()));
            if (masked) {
                ops.add(Operand.output());
            }
            if (factor != null) {
                ops.add(factor);
            }
            return ops;
        }

        public BroadcastSum build() {
            if (negativePart && factor == null) {
                throw new IllegalArgumentException(name + ": negativePart needs a factor");
            }
            return new BroadcastSum(this);
        }
    }
}
