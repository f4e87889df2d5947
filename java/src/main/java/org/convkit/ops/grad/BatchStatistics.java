package org.convkit.ops.grad;

import java.util.List;

import org.convkit.ops.Op;
import org.convkit.tensor.Shape;

/**
 * The statistics a training-form batch normalization normalizes with, for the trainer's update of
 * the running mean and variance: input {@code [N, C, ...]}, output {@code [2, C]}, row 0 the mean
 * of each channel over N and every spatial position, row 1 the biased variance (divided by the
 * count {@code N * spatial}; multiply by {@code count / (count - 1)} for the unbiased one PyTorch
 * keeps). The variance is the mean of the squared deviations from the mean (two passes), not
 * {@code E[x^2] - E[x]^2}, which cancels catastrophically. No gradient: it is not on the loss's
 * path. FLOPs: 3 per element.
 */
public final class BatchStatistics implements Op {
    /** The op (it has no settings). */
    public static final BatchStatistics INSTANCE = new BatchStatistics();

    private BatchStatistics() {
    }

    @Override
    public String name() {
        return "batch_statistics";
    }

    /** {@code [2, C]}. */
    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        Shape in = inputs.get(0);
        if (in == null || in.rank() < 2) {
            throw new IllegalArgumentException("batch_statistics: input must be [N, C, ...] (rank 2 or more), got " + in);
        }
        return Shape.of(2, in.dim(1));
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        outputShape(inputs);
        return List.of();
    }

    @Override
    public long flops(List<Shape> inputs) {
        outputShape(inputs);
        return 3 * inputs.get(0).elementCount();
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        return "batch_statistics(in=" + inputs.get(0) + ")";
    }

    @Override
    public boolean backwardReadsInputs() {
        return false;
    }

    @Override
    public boolean backwardReadsOutput() {
        return false;
    }

    @Override
    public String toString() {
        return "batch_statistics";
    }
}
