package org.convkit.ops.grad;

import java.util.List;

import org.convkit.ops.Concat;
import org.convkit.ops.grad.Gradient.Operand;
import org.convkit.tensor.Shape;

/**
 * The gradient of one input of {@link Concat}: its slice of dy along the axis, copied (each of the
 * {@code outer} rows of dy gives the input's {@code inner} elements at its offset). Reads dy only.
 * No arithmetic: 0 FLOPs.
 */
public final class ConcatGrad extends GradientOp {
    private final int index;
    private final Concat.Geometry geometry;

    public ConcatGrad(Concat concat, List<Shape> inputs, int index) {
        super("concat_grad", concat, inputs, List.of(Operand.dy()), inputs.get(index));
        this.index = index;
        this.geometry = concat.geometry(inputs);
    }

    /** Which input's gradient this is. */
    public int index() {
        return index;
    }

    public Concat.Geometry geometry() {
        return geometry;
    }

    @Override
    protected String details() {
        return "input=" + index;
    }

    @Override
    public long flops(List<Shape> inputs) {
        outputShape(inputs);
        return 0;
    }
}
