package org.convkit.ops.grad;

import java.util.List;

import org.convkit.ops.BatchNorm;
import org.convkit.ops.BatchNormTraining;
import org.convkit.ops.Op;
import org.convkit.ops.grad.Gradient.Operand;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;

/**
 * The input and scale gradients of batch normalization, in both forms. Per channel c, with
 * {@code sigma = sqrt(var + epsilon)}, {@code xhat = (x - mean) / sigma} and sums over N and the
 * spatial positions ({@code M} terms):
 *
 * <ul>
 *   <li>training form ({@link BatchNormTraining}: mean and var are the batch's, recomputed from x):
 *       {@code dx = scale / sigma * (dy - sum(dy) / M - xhat * sum(dy * xhat) / M)}, reading dy, x
 *       and scale; {@code dscale = sum(dy * xhat)}, reading dy and x;</li>
 *   <li>inference form ({@link BatchNorm}: mean and var are parameters, held fixed, as when
 *       fine-tuning with frozen statistics): {@code dx = dy * scale / sigma}, reading dy, scale and
 *       var; {@code dscale = sum(dy * (x - mean)) / sigma}, reading dy, x, mean and var.</li>
 * </ul>
 * The shift's gradient, {@code sum(dy)}, is a {@link BroadcastSum}. The kernels keep per-channel
 * statistics and sums in a workspace of {@code 4 * C} floats. Every sum is one reduction in a
 * fixed order (deterministic).
 */
public final class BatchNormGrad extends GradientOp {
    private final boolean training;
    private final boolean scale;
    private final float epsilon;
    private final int n;
    private final int c;
    private final int spatial;

    private BatchNormGrad(String name, Op forward, Shape input, List<Operand> operands, Shape output, boolean training,
            boolean scale, float epsilon) {
        super(name, forward, List.of(input), operands, output);
        this.training = training;
        this.scale = scale;
        this.epsilon = epsilon;
        this.n = input.dim(0);
        this.c = input.dim(1);
        long s = input.elementCount() / ((long) n * c);
        if (s > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + ": spatial size " + s + " of input " + input + " exceeds 2^31 - 1");
        }
        this.spatial = (int) s;
    }

    /** The training form's input gradient: reads dy, x, scale. */
    public static BatchNormGrad input(BatchNormTraining bn, Shape input) {
        return new BatchNormGrad("batchnorm_train_grad_data", bn, input,
                List.of(Operand.dy(), Operand.input(0), Operand.parameter(0)), input, true, false, bn.epsilon());
    }

    /** The training form's scale gradient: reads dy, x. */
    public static BatchNormGrad scale(BatchNormTraining bn, Shape input) {
        return new BatchNormGrad("batchnorm_train_grad_scale", bn, input, List.of(Operand.dy(), Operand.input(0)),
                Shape.of(bn.channels(input)), true, true, bn.epsilon());
    }

    /** The inference form's input gradient: reads dy, scale, var. */
    public static BatchNormGrad input(BatchNorm bn, Shape input) {
        return new BatchNormGrad("batchnorm_grad_data", bn, input,
                List.of(Operand.dy(), Operand.parameter(0), Operand.parameter(3)), input, false, false, bn.epsilon());
    }

    /** The inference form's scale gradient: reads dy, x, mean, var. */
    public static BatchNormGrad scale(BatchNorm bn, Shape input) {
        return new BatchNormGrad("batchnorm_grad_scale", bn, input,
                List.of(Operand.dy(), Operand.input(0), Operand.parameter(2), Operand.parameter(3)),
                Shape.of(bn.channels(input)), false, true, bn.epsilon());
    }

    /** Whether the statistics are the batch's (training form) rather than parameters. */
    public boolean training() {
        return training;
    }

    /** Whether this is the scale's gradient (else the input's). */
    public boolean isScale() {
        return scale;
    }

    public float epsilon() {
        return epsilon;
    }

    /** The batch, N. */
    public int batch() {
        return n;
    }

    public int channels() {
        return c;
    }

    /** Elements per (n, c) plane: the product of the dimensions after the channels. */
    public int spatial() {
        return spatial;
    }

    /** Statistics and sums: {@code 4 * C} floats (mean, var, sum dy, sum dy * (x - mean)). */
    @Override
    public long workspaceBytes(List<Shape> inputs, DType dtype) {
        outputShape(inputs);
        return training || scale ? 4L * c * dtype.byteSize() : 0;
    }

    /**
     * Per element: the statistics' passes (3) and the sums' (3) where the term needs them, then the
     * result's (5 for the training form's input gradient, 2 for the inference form's).
     */
    @Override
    public long flops(List<Shape> inputs) {
        outputShape(inputs);
        long e = (long) n * c * spatial;
        return e * (training ? (scale ? 6 : 11) : (scale ? 3 : 2));
    }
}
