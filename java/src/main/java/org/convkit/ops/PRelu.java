package org.convkit.ops;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.convkit.ops.grad.BroadcastSum;
import org.convkit.ops.grad.Gradient;
import org.convkit.ops.grad.PReluGrad;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * ONNX {@code PRelu}: {@code y = x < 0 ? slope * x : x}, element-wise, where {@code slope} is a
 * learned parameter whose shape is unidirectionally broadcastable to the input (ONNX/numpy rules:
 * the shapes are aligned at their last dimension, the slope may have fewer dimensions, and each of
 * its dimensions is 1 or equal to the input's). Typical slopes: {@code [C, 1, 1]} on NCHW (one per
 * channel, PyTorch's {@code PReLU(C)}), {@code [1]} (one shared), or the input's own shape. A NaN
 * input gives NaN.
 *
 * <p>The slope's shape is part of the descriptor, since it is a parameter's shape (what
 * {@link #parameterShapes} answers); the input shape is checked against it.
 *
 * <p>FLOPs: 2 per element (compare, multiply).
 */
public final class PRelu implements Op {
    private final Shape slope;

    private PRelu(Shape slope) {
        this.slope = slope;
    }

    /** A PReLU whose slope has this shape. */
    public static PRelu of(Shape slope) {
        if (slope == null) {
            throw new IllegalArgumentException("prelu: slope shape must not be null");
        }
        return new PRelu(slope);
    }

    /** One slope per channel of an NCHW (or CHW) input: slope shape {@code [channels, 1, 1]}. */
    public static PRelu perChannel(int channels) {
        if (channels < 1) {
            throw new IllegalArgumentException("prelu: channels must be positive, got " + channels);
        }
        return new PRelu(Shape.of(channels, 1, 1));
    }

    /** One slope shared by every element: slope shape {@code [1]}. */
    public static PRelu shared() {
        return new PRelu(Shape.of(1));
    }

    /** The slope's shape. */
    public Shape slopeShape() {
        return slope;
    }

    /**
     * How the slope index follows from an input element's flat (row-major) index {@code i}: for
     * {@code k} from 0 up to {@code dims.length}, {@code index += (i % dims[k]) * strides[k]; i /= dims[k]}.
     * The groups are the input's dimensions, innermost first, with neighbours that are both
     * broadcast (stride 0) or both indexed merged, dimensions of size 1 dropped, and the outermost
     * group dropped when it is broadcast. So NCHW with a {@code [C,1,1]} slope becomes
     * {@code dims {H*W, C}, strides {0, 1}}; a scalar-like slope gives no group at all.
     */
    public record Broadcast(int[] dims, int[] strides) {
        /** The slope index of input element {@code i}, as the kernels compute it. */
        public long slopeIndex(long i) {
            long index = 0;
            for (int k = 0; k < dims.length; k++) {
                index += (i % dims[k]) * strides[k];
                i /= dims[k];
            }
            return index;
        }
    }

    /** Validates the input against the slope and resolves the broadcast (see {@link Broadcast}). */
    public Broadcast broadcast(Shape input) {
        if (input == null) {
            throw new IllegalArgumentException("prelu: input shape must not be null");
        }
        int r = input.rank();
        if (slope.rank() > r) {
            throw new IllegalArgumentException("prelu: slope shape " + slope + " (rank " + slope.rank()
                    + ") is not unidirectionally broadcastable to input shape " + input + " (rank " + r
                    + "): the slope has more dimensions");
        }
        int offset = r - slope.rank();
        for (int a = offset; a < r; a++) {
            int s = slope.dim(a - offset);
            if (s != 1 && s != input.dim(a)) {
                throw new IllegalArgumentException("prelu: slope shape " + slope
                        + " is not unidirectionally broadcastable to input shape " + input + ": slope dimension "
                        + (a - offset) + " is " + s + ", input dimension " + a + " is " + input.dim(a)
                        + " (must be 1 or equal)");
            }
        }
        // Groups from the innermost dimension outwards: broadcast (slope 1) or indexed (slope = input).
        List<long[]> groups = new ArrayList<>(); // {size, stride, indexed ? 1 : 0}
        long slopeStride = 1;
        for (int a = r - 1; a >= 0; a--) {
            int d = input.dim(a);
            if (d == 1) {
                continue;
            }
            boolean indexed = a >= offset && slope.dim(a - offset) != 1;
            long[] last = groups.isEmpty() ? null : groups.get(groups.size() - 1);
            if (last != null && (last[2] == 1) == indexed) {
                last[0] *= d;
            } else {
                groups.add(new long[] {d, indexed ? slopeStride : 0, indexed ? 1 : 0});
            }
            if (indexed) {
                slopeStride *= d;
            }
        }
        if (!groups.isEmpty() && groups.get(groups.size() - 1)[2] == 0) {
            groups.remove(groups.size() - 1);
        }
        int[] dims = new int[groups.size()];
        int[] strides = new int[groups.size()];
        for (int k = 0; k < dims.length; k++) {
            long size = groups.get(k)[0];
            if (size > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("prelu: input " + input + " has a group of " + size
                        + " elements; at most 2^31 - 1 are supported");
            }
            if (groups.get(k)[1] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("prelu: slope " + slope + " has more than 2^31 - 1 elements");
            }
            dims[k] = (int) size;
            strides[k] = (int) groups.get(k)[1];
        }
        return new Broadcast(dims, strides);
    }

    @Override
    public String name() {
        return "prelu";
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        broadcast(inputs.get(0));
        return inputs.get(0);
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        outputShape(inputs);
        return List.of(slope);
    }

    @Override
    public List<String> parameterNames(List<Shape> inputs) {
        return List.of("slope");
    }

    /** Slopes uniform in [0, 0.5): around PyTorch's initial 0.25, and never the He initialisation of a weight. */
    @Override
    public void initParameter(List<Shape> inputs, int index, Tensor t, long seed) {
        t.fillUniform(seed, 0f, 0.5f);
    }

    /** 2 per element (compare, multiply). */
    @Override
    public long flops(List<Shape> inputs) {
        try {
            return Math.multiplyExact(outputShape(inputs).elementCount(), 2L);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("prelu: FLOP count of " + describe(inputs) + " overflows a long", e);
        }
    }

    /**
     * The input gradient ({@link PReluGrad}: dy, x, slope) and the slope's: dy times
     * {@code min(x, 0)}, summed over the dimensions the slope is broadcast along (dy and x).
     */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        Shape in = outputShape(inputs);
        int[] aligned = new int[in.rank()];
        Arrays.fill(aligned, 1);
        System.arraycopy(slope.dims(), 0, aligned, in.rank() - slope.rank(), slope.rank());
        return List.of(new PReluGrad(this, in).ofInput(0),
                BroadcastSum.of("prelu_grad_slope", this, inputs, slope).aligned(Shape.of(aligned))
                        .times(Gradient.Operand.input(0), in).negativePart().build().ofParameter(0));
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        return "prelu(in=" + inputs.get(0) + ",slope=" + slope + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PRelu p && p.slope.equals(slope);
    }

    @Override
    public int hashCode() {
        return slope.hashCode();
    }

    @Override
    public String toString() {
        return "prelu(slope=" + slope + ")";
    }
}
