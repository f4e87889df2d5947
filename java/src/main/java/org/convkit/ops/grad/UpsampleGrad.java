package org.convkit.ops.grad;

import java.util.List;

import org.convkit.ops.Upsample;
import org.convkit.ops.grad.Gradient.Operand;
import org.convkit.tensor.Shape;

/**
 * The input gradient of {@link Upsample}: each input pixel gathers dy from the outputs that read it,
 * weighted as they read it (nearest: weight 1 for the outputs mapping to it; bilinear: the product
 * of the two axes' weights, neighbours clamped to the image as in the forward). The coordinate
 * transforms are the forward's exact integer ratios, so every device finds the same outputs. Reads
 * dy only; deterministic. FLOPs: 2 per (input, reading output) pair.
 */
public final class UpsampleGrad extends GradientOp {
    private final Upsample.Geometry geometry;

    public UpsampleGrad(Upsample upsample, Shape input) {
        super("upsample_grad", upsample, List.of(input), List.of(Operand.dy()), input);
        this.geometry = upsample.geometry(input);
    }

    public Upsample.Geometry geometry() {
        return geometry;
    }

    @Override
    public long flops(List<Shape> inputs) {
        outputShape(inputs);
        int taps = geometry.mode() == Upsample.Mode.BILINEAR ? 4 : 1;
        return 2L * taps * geometry.outputShape().elementCount();
    }
}
