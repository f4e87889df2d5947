package org.convkit.memory;

/**
 * One tensor of a schedule: its size and the steps during which it must exist (both ends
 * included).
 *
 * @param name e.g. {@code conv1}, {@code conv1/workspace}, {@code d(conv2)}
 * @param kind what it is
 * @param bytes its size
 * @param first the step that writes it (or before which it is uploaded)
 * @param last the last step that reads it (or after which it is downloaded)
 */
public record TensorLife(String name, Kind kind, long bytes, int first, int last) {
    /** What a tensor is, for reports. */
    public enum Kind {
        /** The model's input batch. */
        INPUT,
        /** The class labels of a training batch. */
        LABELS,
        /** The loss output of a training step (losses and right/wrong flags), downloaded after its step. */
        LOSS,
        /** A layer's output computed again for the backward pass (gradient checkpointing). */
        RECOMPUTED,
        /** A batch normalization's batch mean and variance, read by the update of its running statistics. */
        STATISTICS,
        /** A layer's output. */
        ACTIVATION,
        /** Scratch memory of one kernel, alive only during its step. */
        WORKSPACE,
        /** The gradient of an activation, alive during the backward pass. */
        ACTIVATION_GRADIENT,
        /** The gradient of a layer's parameters, alive until the optimizer step. */
        PARAMETER_GRADIENT
    }

    public TensorLife {
        if (bytes <= 0 || first > last) {
            throw new IllegalArgumentException("tensor life '" + name + "': bytes " + bytes + ", steps " + first + ".." + last);
        }
    }

    /** Whether two tensors must exist at the same time. */
    public boolean overlaps(TensorLife o) {
        return first <= o.last && o.first <= last;
    }

    /** Whether this tensor exists during {@code step}. */
    public boolean aliveAt(int step) {
        return first <= step && step <= last;
    }
}
