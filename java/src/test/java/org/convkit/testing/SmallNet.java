package org.convkit.testing;

import org.convkit.graph.Graph;
import org.convkit.graph.Model;
import org.convkit.graph.Node;
import org.convkit.ops.Activation;
import org.convkit.ops.Binary;
import org.convkit.ops.Concat;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.GlobalPool2d;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.ops.Softmax;
import org.convkit.tensor.Shape;

/**
 * A small network with every way tensors live in a model (a straight chain, a residual branch
 * that keeps its input alive, a concat of two readers, a head of dense layers): fast enough for
 * thousands of runs, and with enough layers, buffers and kernels that fault injection has many
 * points to fail at.
 */
public final class SmallNet {
    private SmallNet() {
    }

    /** 1x3x16x16 in, 10 class probabilities out; random parameters from {@code seed}. */
    public static Model build(long seed) {
        Graph.Builder b = Graph.builder("smallnet", Shape.nchw(1, 3, 16, 16));
        Node x = b.input();
        Node c1 = b.apply("conv1", Conv2d.builder(8).kernel(3).padding(Padding.SAME).activation(Activation.RELU).build(), x);
        Node c2 = b.apply("conv2", Conv2d.builder(8).kernel(3).padding(Padding.SAME).build(), c1);
        Node res = b.apply("add", Binary.add(Activation.RELU), c2, c1);
        Node p = b.apply("pool", Pool2d.max(2).stride(2).build(), res);
        Node a = b.apply("branch_a", Conv2d.builder(4).kernel(1).build(), p);
        Node d = b.apply("branch_b", Conv2d.builder(4).kernel(3).padding(Padding.SAME).build(), p);
        Node cat = b.apply("concat", Concat.of(1), a, d);
        Node g = b.apply("gap", GlobalPool2d.avg(), cat);
        Node f = b.apply("flatten", Flatten.DEFAULT, g);
        Node fc = b.apply("fc", Dense.linear(10, true, Activation.NONE), f);
        Node out = b.apply("softmax", Softmax.lastAxis(), fc);
        return Model.withRandomParameters(b.graph(out), seed);
    }
}
