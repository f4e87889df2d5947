package org.convkit.exec;

import org.convkit.graph.Graph;
import org.convkit.ops.Activation;
import org.convkit.ops.BatchNorm;
import org.convkit.ops.ActivationOp;
import org.convkit.ops.Binary;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.tensor.Shape;

/** Small trainable graphs for the trainer's tests. */
final class TrainingModels {
    private TrainingModels() {
    }

    /**
     * A residual block: conv1 feeds both conv2 and the add, so its gradient is accumulated; fused
     * ReLUs, max pooling, flatten and a dense head.
     */
    static Graph residual(int batch) {
        Graph.Builder b = Graph.builder("residual", Shape.nchw(batch, 3, 8, 8));
        b.add("conv1", Conv2d.builder(4).kernel(3).padding(Padding.SAME).activation(Activation.RELU).build());
        b.add("conv2", Conv2d.builder(4).kernel(3).padding(Padding.SAME).build(), "conv1");
        b.add("add", Binary.add(Activation.RELU), "conv2", "conv1");
        b.add("pool", Pool2d.max(2).stride(2).build(), "add");
        b.add("flat", Flatten.DEFAULT, "pool");
        b.add("dense", Dense.builder(5).build(), "flat");
        return b.graph();
    }

    /**
     * The residual block with smooth activations (tanh, no max pooling), so that finite
     * differences of the loss are accurate: no kink lies within a perturbation.
     */
    static Graph smoothResidual(int batch) {
        Graph.Builder b = Graph.builder("smooth residual", Shape.nchw(batch, 2, 5, 5));
        b.add("conv1", Conv2d.builder(3).kernel(3).padding(Padding.SAME).build());
        b.add("act1", ActivationOp.tanh(), "conv1");
        b.add("conv2", Conv2d.builder(3).kernel(3).padding(Padding.SAME).build(), "act1");
        b.add("add", Binary.add(), "conv2", "act1");
        b.add("act2", ActivationOp.tanh(), "add");
        b.add("flat", Flatten.DEFAULT, "act2");
        b.add("dense", Dense.builder(4).build(), "flat");
        return b.graph();
    }

    /**
     * Batch normalization trained with batch statistics: one on the input itself (so that a test
     * can compute its statistics from the images) and one after a convolution.
     */
    static Graph normalized(int batch) {
        Graph.Builder b = Graph.builder("normalized", Shape.nchw(batch, 3, 6, 6));
        b.add("bn0", BatchNorm.withEpsilon(1e-5f));
        b.add("conv", Conv2d.builder(4).kernel(3).padding(Padding.SAME).build(), "bn0");
        b.add("bn1", BatchNorm.withEpsilon(1e-3f), "conv");
        b.add("act", ActivationOp.tanh(), "bn1");
        b.add("flat", Flatten.DEFAULT, "act");
        b.add("dense", Dense.builder(3).build(), "flat");
        return b.graph();
    }
}
