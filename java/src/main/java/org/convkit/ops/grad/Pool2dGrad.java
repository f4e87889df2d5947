package org.convkit.ops.grad;

import java.util.List;

import org.convkit.ops.GlobalPool2d;
import org.convkit.ops.Op;
import org.convkit.ops.Pool2d;
import org.convkit.ops.grad.Gradient.Operand;
import org.convkit.tensor.Shape;

/**
 * The input gradient of max and average pooling ({@link Pool2d}, and {@link GlobalPool2d} as the
 * pooling whose window is the whole plane). Each input element gathers from the windows that
 * contain it (no atomics, a fixed order: deterministic):
 *
 * <ul>
 *   <li>average: {@code dx[i] = sum over windows o containing i of dy[o] / divisor(o)}, the
 *       divisor exactly the forward's (padding counted only with {@code countIncludePad}, a ceil
 *       mode overhang never). Reads dy only.</li>
 *   <li>max: {@code dx[i] = sum over windows o whose maximum is i of dy[o]}, the maximum being the
 *       first tap of the window (in row-major tap order) equal to {@code y[o]} (NaN equal to NaN,
 *       as the forward propagates it): ties go to the first, as in PyTorch. Reads dy, x and y.</li>
 * </ul>
 * FLOPs: one per (input element, window) pair, i.e. the forward's count.
 */
public final class Pool2dGrad extends GradientOp {
    private final Pool2d.Geometry geometry;
    private final long flops;

    private Pool2dGrad(String name, Op forward, Shape input, Pool2d.Geometry geometry, long flops) {
        super(name, forward, List.of(input), geometry.mode() == Pool2d.Mode.MAX
                ? List.of(Operand.dy(), Operand.input(0), Operand.output()) : List.of(Operand.dy()), input);
        this.geometry = geometry;
        this.flops = flops;
    }

    /** The gradient of a pooling on this input. */
    public static Pool2dGrad of(Pool2d pool, Shape input) {
        return new Pool2dGrad(pool.name() + "_grad", pool, input, pool.geometry(input), pool.flops(input));
    }

    /** The gradient of a global pooling: the pooling whose VALID window is the whole plane. */
    public static Pool2dGrad of(GlobalPool2d pool, Shape input) {
        pool.outputShape(input);
        Pool2d.Builder b = pool.mode() == GlobalPool2d.Mode.MAX ? Pool2d.max(input.h(), input.w())
                : Pool2d.avg(input.h(), input.w());
        return new Pool2dGrad(pool.name() + "_grad", pool, input, b.build().geometry(input), pool.flops(input));
    }

    /** The pooling's geometry (for a global pooling, its whole-plane window). */
    public Pool2d.Geometry geometry() {
        return geometry;
    }

    @Override
    public long flops(List<Shape> inputs) {
        outputShape(inputs);
        return flops;
    }
}
