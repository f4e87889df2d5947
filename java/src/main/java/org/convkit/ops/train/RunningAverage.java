package org.convkit.ops.train;

import java.util.List;

import org.convkit.ops.Op;
import org.convkit.tensor.Shape;

/**
 * The update of a batch normalization's running statistic after a training step, in place:
 * {@code y[c] = (1 - m) * y[c] + m * k * s[row, c]}, where s is the batch's statistics
 * ({@code [2, C]}: mean, biased variance; {@link org.convkit.ops.grad.BatchStatistics}), row 0 or 1,
 * m the momentum and k a correction: 1 for the mean, {@code count / (count - 1)} for the variance,
 * so that the running variance is the unbiased one (PyTorch's {@code BatchNorm2d}, momentum 0.1).
 *
 * <p>Input: the statistics; output: the running mean or variance ({@code [C]}), read and written.
 * FLOPs: 4 per channel.
 */
public final class RunningAverage implements Op {
    private final float momentum;
    private final int row;
    private final float correction;

    private RunningAverage(float momentum, int row, float correction) {
        if (!(momentum > 0f && momentum <= 1f)) {
            throw new IllegalArgumentException("running_average: momentum must be in (0, 1], got " + momentum);
        }
        if (row != 0 && row != 1) {
            throw new IllegalArgumentException("running_average: row must be 0 (mean) or 1 (variance), got " + row);
        }
        if (!(correction > 0f) || Float.isInfinite(correction)) {
            throw new IllegalArgumentException("running_average: correction must be positive and finite, got " + correction);
        }
        this.momentum = momentum;
        this.row = row;
        this.correction = correction;
    }

    /** The running mean's update: row 0, no correction. */
    public static RunningAverage mean(float momentum) {
        return new RunningAverage(momentum, 0, 1f);
    }

    /**
     * The running variance's update: row 1, made unbiased for {@code count} values per channel
     * (N times the spatial size; with one value there is nothing to correct by).
     */
    public static RunningAverage variance(float momentum, long count) {
        if (count < 1) {
            throw new IllegalArgumentException("running_average: count must be 1 or more, got " + count);
        }
        return new RunningAverage(momentum, 1, count == 1 ? 1f : (float) ((double) count / (count - 1)));
    }

    public float momentum() {
        return momentum;
    }

    /** 0: the mean; 1: the variance. */
    public int row() {
        return row;
    }

    public float correction() {
        return correction;
    }

    @Override
    public String name() {
        return "running_average";
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        Shape s = inputs.get(0);
        if (s == null || s.rank() != 2 || s.dim(0) != 2) {
            throw new IllegalArgumentException(name() + ": statistics must be [2, C], got " + s);
        }
        return Shape.of(s.dim(1));
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        outputShape(inputs);
        return List.of();
    }

    @Override
    public long flops(List<Shape> inputs) {
        return 4 * outputShape(inputs).elementCount();
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        return name() + "(stats=" + inputs.get(0) + ",row=" + row + ",momentum=" + momentum + ",k=" + correction + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RunningAverage r && Float.compare(r.momentum, momentum) == 0 && r.row == row
                && Float.compare(r.correction, correction) == 0;
    }

    @Override
    public int hashCode() {
        return (Float.hashCode(momentum) * 31 + row) * 31 + Float.hashCode(correction);
    }

    @Override
    public String toString() {
        return name() + "(row=" + row + ",momentum=" + momentum + ",k=" + correction + ")";
    }
}
