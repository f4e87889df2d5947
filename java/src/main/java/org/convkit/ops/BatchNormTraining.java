package org.convkit.ops;

import java.util.Arrays;
import java.util.List;

import org.convkit.ops.grad.BatchNormGrad;
import org.convkit.ops.grad.BatchStatistics;
import org.convkit.ops.grad.BroadcastSum;
import org.convkit.ops.grad.Gradient;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * Batch normalization in its training form (ONNX {@code BatchNormalization} with
 * {@code training_mode = 1}): per channel c, with the mean and the biased variance of the batch,
 * taken over N and every spatial position,
 *
 * <pre>
 *   mu[c] = mean of x[:, c, ...],  var[c] = mean of (x[:, c, ...] - mu[c])^2
 *   y = scale[c] * (x - mu[c]) / sqrt(var[c] + epsilon) + B[c]
 * </pre>
 *
 * <p>It has {@link BatchNorm}'s parameters, in the same order ({@code scale, B, mean, var}), so that
 * a layer keeps its parameters when it switches form ({@link BatchNorm#training()}); the running
 * {@code mean} and {@code var} are not read: a trainer updates them from {@link #statistics()}
 * after each step, e.g. PyTorch's {@code running = (1 - m) * running + m * batch} with the
 * variance made unbiased by {@code count / (count - 1)}, {@code count = N * spatial}.
 *
 * <p>Its backward pass differentiates through the batch statistics: {@code dx = scale / sigma *
 * (dy - mean(dy) - xhat * mean(dy * xhat))}, {@code dscale = sum dy * xhat}, {@code dB = sum dy}.
 * The kernels compute the statistics into a workspace of {@code 2 * C} floats. FLOPs: 3 per
 * element for the statistics (two sums and a square), 3 for the normalization.
 */
public final class BatchNormTraining implements Op {
    private final BatchNorm inference;

    BatchNormTraining(BatchNorm inference) {
        this.inference = inference;
    }

    /** The training form of a batch normalization with this epsilon. */
    public static BatchNormTraining withEpsilon(float epsilon) {
        return new BatchNormTraining(BatchNorm.withEpsilon(epsilon));
    }

    public float epsilon() {
        return inference.epsilon();
    }

    /** The inference form, with the same parameters. */
    public BatchNorm inference() {
        return inference;
    }

    /** The op a trainer runs on the same input to read the batch's mean and variance ({@code [2, C]}). */
    public BatchStatistics statistics() {
        return BatchStatistics.INSTANCE;
    }

    /** Channels (dimension 1) of a valid input. */
    public int channels(Shape input) {
        return inference.channels(input);
    }

    @Override
    public String name() {
        return "batchnorm_train";
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        return inference.outputShape(inputs);
    }

    /** {@code scale, B, mean, var}, each {@code [C]}, as {@link BatchNorm}'s. */
    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        return inference.parameterShapes(inputs);
    }

    @Override
    public List<String> parameterNames(List<Shape> inputs) {
        return inference.parameterNames(inputs);
    }

    @Override
    public void initParameter(List<Shape> inputs, int index, Tensor t, long seed) {
        inference.initParameter(inputs, index, t, seed);
    }

    /** 6 per element: the statistics' two sums and square, then subtract, scale and shift. */
    @Override
    public long flops(List<Shape> inputs) {
        return Math.multiplyExact(6L, outputShape(inputs).elementCount());
    }

    /** The batch statistics: {@code 2 * C} elements of {@code dtype}. */
    @Override
    public long workspaceBytes(List<Shape> inputs, DType dtype) {
        return 2L * channels(inputs.get(0)) * dtype.byteSize();
    }

    /**
     * The input gradient (dy, x, scale), the scale's (dy, x) and the shift's (dy summed over N and
     * the spatial positions); the running mean and variance have none.
     */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        Shape in = outputShape(inputs);
        int[] aligned = new int[in.rank()];
        Arrays.fill(aligned, 1);
        aligned[1] = in.dim(1);
        return List.of(BatchNormGrad.input(this, in).ofInput(0), BatchNormGrad.scale(this, in).ofParameter(0),
                BroadcastSum.of("batchnorm_train_grad_bias", this, inputs, Shape.of(in.dim(1)))
                        .aligned(Shape.of(aligned)).build().ofParameter(1));
    }

    @Override
    public String describe(List<Shape> inputs) {
        return inference.describe(inputs).replaceFirst("^batchnorm", "batchnorm_train");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BatchNormTraining t && t.inference.equals(inference);
    }

    @Override
    public int hashCode() {
        return 31 * inference.hashCode() + 1;
    }

    @Override
    public String toString() {
        return inference.toString().replaceFirst("^batchnorm", "batchnorm_train");
    }
}
