package org.convkit.graph.zoo;

import static org.convkit.ops.Activation.NONE;
import static org.convkit.ops.Activation.RELU;

import org.convkit.graph.Graph;
import org.convkit.graph.Node;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.Pool2d;
import org.convkit.tensor.Shape;

/**
 * LeNet-5 on a 32x32 grey image, 10 classes, in the form PyTorch's "Neural Networks" tutorial
 * and KernelBench ({@code level3/4_LeNet5.py}) define it: 61,706 parameters, logits out.
 *
 * <p>The layer sizes are those of LeCun et al. 1998 (C1 6@28x28, S2 6@14x14, C3 16@10x10, S4
 * 16@5x5, C5 120, F6 84, 10 outputs); it departs from the paper where every modern version
 * does: C3 reads all six S2 maps (2,416 parameters; the paper's Table I connects each C3 map to
 * 3, 4 or 6 of them, 1,516), S2 and S4 are parameter-free 2x2 max pooling (the paper's
 * subsampling had a trainable coefficient and bias per map, 12 and 32 parameters), ReLU
 * replaces the scaled tanh, and the output is a 10-way dense layer (850 parameters) instead of
 * the paper's fixed Euclidean RBF units. C5, a 5x5 convolution on a 5x5 map, is the dense
 * layer {@code fc1}, as in the references.
 */
public final class LeNet5 {
    private LeNet5() {
    }

    /** The graph for {@code batch} images of 1x32x32. */
    public static Graph graph(int batch) {
        Graph.Builder b = Graph.builder("lenet5", Shape.nchw(batch, 1, 32, 32));
        Node x = b.input();
        x = b.apply("conv1", Conv2d.builder(6).kernel(5).activation(RELU).build(), x);      // C1: 6x28x28
        x = b.apply("pool1", Pool2d.max(2).stride(2).build(), x);                             // S2: 6x14x14
        x = b.apply("conv2", Conv2d.builder(16).kernel(5).activation(RELU).build(), x);     // C3: 16x10x10
        x = b.apply("pool2", Pool2d.max(2).stride(2).build(), x);                             // S4: 16x5x5
        x = b.apply("flatten", Flatten.DEFAULT, x);                                           // 400
        x = b.apply("fc1", Dense.linear(120, true, RELU), x);                                 // C5
        x = b.apply("fc2", Dense.linear(84, true, RELU), x);                                  // F6
        x = b.apply("fc3", Dense.linear(10, true, NONE), x);                                  // output
        return b.graph(x);
    }
}
