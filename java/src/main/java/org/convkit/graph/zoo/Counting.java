package org.convkit.graph.zoo;

import org.convkit.graph.Graph;
import org.convkit.graph.Layer;
import org.convkit.ops.BatchNorm;

/**
 * Which tensors a published parameter count includes. The frameworks disagree only on batch
 * normalization: convkit's {@link BatchNorm} holds four tensors per channel (scale, shift,
 * running mean, running variance), all of which a device stores, and
 * {@link Graph#parameterCount()} counts all four. PyTorch keeps the running statistics as
 * buffers, outside {@code parameters()}; Keras keeps them as non-trainable weights, inside
 * "Total params" but outside "Trainable params". A model without batch normalization counts the
 * same either way.
 */
public enum Counting {
    /**
     * The tensors gradient descent learns: weights, biases, and batch normalization's scale and
     * shift (two per channel). PyTorch's {@code sum(p.numel() for p in model.parameters())},
     * Keras's "Trainable params", Caffe's learned blobs.
     */
    LEARNED,
    /**
     * Every parameter tensor the model stores, batch normalization's running mean and variance
     * included (four per channel): Keras's "Total params", and {@link Graph#parameterCount()}.
     */
    STORED;

    /** The graph's parameter count under this convention. */
    public long count(Graph graph) {
        long n = graph.parameterCount();
        if (this == STORED) {
            return n;
        }
        for (Layer l : graph.layers()) {
            if (l.op() instanceof BatchNorm bn) {
                n -= 2L * bn.channels(l.inputShapes().get(0));
            }
        }
        return n;
    }

    /** How a reader recognises the convention, e.g. in a table. */
    public String describe() {
        return this == LEARNED ? "learned (BN: scale, shift)" : "stored (BN: + mean, var)";
    }
}
