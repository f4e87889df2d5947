package org.convkit.ops.train;

import java.util.List;

import org.convkit.ops.Op;
import org.convkit.tensor.Shape;

/**
 * {@code y += x}, element-wise, in place: how a trainer sums the gradient of a tensor that feeds
 * several layers (a residual branch point, or a layer reading the same tensor twice). The input x
 * is a partial gradient; the output y is the tensor's gradient so far, which the kernel reads and
 * writes. FLOPs: 1 per element.
 */
public final class Accumulate implements Op {
    /** The only instance: the op has no hyper-parameters. */
    public static final Accumulate INSTANCE = new Accumulate();

    private Accumulate() {
    }

    @Override
    public String name() {
        return "accumulate";
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

    @Override
    public long flops(List<Shape> inputs) {
        return outputShape(inputs).elementCount();
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        return name() + "(x=" + inputs.get(0) + ")";
    }

    @Override
    public String toString() {
        return name();
    }
}
