package org.convkit.data;

import org.convkit.tensor.Tensor;

/** Labelled images a trainer reads in mini-batches. */
public interface Dataset {
    /** Number of examples. */
    int count();

    /** Copies examples {@code [start, start + n)} (n the batch of {@code images}) into the batch tensors, wrapping around. */
    void batch(int start, Tensor images, Tensor labels);
}
