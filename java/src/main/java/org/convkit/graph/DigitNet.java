package org.convkit.graph;

import org.convkit.data.Digits;
import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.tensor.Shape;

/**
 * The small CNN that {@code ./convkit train} trains on {@link Digits}: two 3x3 convolutions with
 * ReLU (8 and 16 maps, SAME), each followed by 2x2 max pooling, then a dense layer to the ten
 * classes (the logits; the loss applies the softmax). 3,818 parameters; on a 16x16 image
 * 16x16x8 -> 8x8x8 -> 8x8x16 -> 4x4x16 = 256 features -> 10.
 */
public final class DigitNet {
    private DigitNet() {
    }

    /** The network for a batch of {@code batch} images. */
    public static Graph graph(int batch) {
        Graph.Builder b = Graph.builder("digitnet", Shape.nchw(batch, 1, Digits.SIZE, Digits.SIZE));
        b.add("conv1", Conv2d.builder(8).kernel(3).padding(Padding.SAME).activation(Activation.RELU).build());
        b.add("pool1", Pool2d.max(2).stride(2).build());
        b.add("conv2", Conv2d.builder(16).kernel(3).padding(Padding.SAME).activation(Activation.RELU).build());
        b.add("pool2", Pool2d.max(2).stride(2).build());
        b.add("flatten", Flatten.DEFAULT);
        b.add("dense", Dense.builder(Digits.CLASSES).build());
        return b.graph();
    }

    /** The network with random parameters from {@code seed}. */
    public static Model build(int batch, long seed) {
        return Model.withRandomParameters(graph(batch), seed);
    }
}
