package org.convkit.graph.zoo;

import static org.convkit.ops.Activation.NONE;
import static org.convkit.ops.Activation.RELU;

import org.convkit.graph.Graph;
import org.convkit.graph.Node;
import org.convkit.ops.Concat;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.Lrn;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.ops.Softmax;
import org.convkit.tensor.Shape;

/**
 * GoogLeNet (Inception v1, Szegedy et al. 2014, Table 1) as Caffe's {@code bvlc_googlenet}
 * deploy network defines it: convolutions with bias and ReLU, LRN after pool1 and after
 * conv2/3x3, nine inception modules, 7x7 average pooling, a 1000-way classifier and softmax
 * ({@code prob}). The two auxiliary classifiers exist only in training and are not included.
 * 6,998,552 parameters. Layer names are Caffe's.
 *
 * <p>Caffe's pooling rounds output sizes up, which the stride-2 pools need: 112 to 56, 56 to 28,
 * 28 to 14, 14 to 7 ({@code ceilMode}). Its LRN is {@link Lrn#onnx}{@code (5, 1e-4, 0.75, 1)}.
 * Dropout before the classifier is the identity at inference and has no layer.
 */
public final class GoogLeNet {
    private GoogLeNet() {
    }

    /** The graph for {@code batch} images of 3x224x224. */
    public static Graph graph(int batch) {
        Graph.Builder b = Graph.builder("googlenet", Shape.nchw(batch, 3, 224, 224));
        Lrn lrn = Lrn.onnx(5, 1e-4f, 0.75f, 1f);
        Node x = b.input();
        x = b.apply("conv1/7x7_s2", conv(64, 7, 2, 3), x);                             // 64x112x112
        x = b.apply("pool1/3x3_s2", maxPool(), x);                                     // 64x56x56
        x = b.apply("pool1/norm1", lrn, x);
        x = b.apply("conv2/3x3_reduce", conv(64, 1, 1, 0), x);
        x = b.apply("conv2/3x3", conv(192, 3, 1, 1), x);                                // 192x56x56
        x = b.apply("conv2/norm2", lrn, x);
        x = b.apply("pool2/3x3_s2", maxPool(), x);                                     // 192x28x28
        x = inception(b, "inception_3a", x, 64, 96, 128, 16, 32, 32);                  // 256x28x28
        x = inception(b, "inception_3b", x, 128, 128, 192, 32, 96, 64);                // 480x28x28
        x = b.apply("pool3/3x3_s2", maxPool(), x);                                     // 480x14x14
        x = inception(b, "inception_4a", x, 192, 96, 208, 16, 48, 64);                 // 512x14x14
        x = inception(b, "inception_4b", x, 160, 112, 224, 24, 64, 64);
        x = inception(b, "inception_4c", x, 128, 128, 256, 24, 64, 64);
        x = inception(b, "inception_4d", x, 112, 144, 288, 32, 64, 64);                // 528x14x14
        x = inception(b, "inception_4e", x, 256, 160, 320, 32, 128, 128);              // 832x14x14
        x = b.apply("pool4/3x3_s2", maxPool(), x);                                     // 832x7x7
        x = inception(b, "inception_5a", x, 256, 160, 320, 32, 128, 128);
        x = inception(b, "inception_5b", x, 384, 192, 384, 48, 128, 128);              // 1024x7x7
        x = b.apply("pool5/7x7_s1", Pool2d.avg(7).build(), x);                          // 1024x1x1
        x = b.apply("flatten", Flatten.DEFAULT, x);
        x = b.apply("loss3/classifier", Dense.linear(1000, true, NONE), x);
        x = b.apply("prob", Softmax.lastAxis(), x);
        return b.graph(x);
    }

    /**
     * One inception module: four branches on the same input, concatenated on channels: 1x1;
     * 1x1 reduce then 3x3; 1x1 reduce then 5x5; 3x3 max pooling (stride 1) then a 1x1
     * projection. The arguments are Table 1's columns.
     */
    private static Node inception(Graph.Builder b, String name, Node x, int n1x1, int n3x3reduce, int n3x3, int n5x5reduce,
            int n5x5, int poolProj) {
        Node a = b.apply(name + "/1x1", conv(n1x1, 1, 1, 0), x);
        Node c = b.apply(name + "/3x3_reduce", conv(n3x3reduce, 1, 1, 0), x);
        c = b.apply(name + "/3x3", conv(n3x3, 3, 1, 1), c);
        Node d = b.apply(name + "/5x5_reduce", conv(n5x5reduce, 1, 1, 0), x);
        d = b.apply(name + "/5x5", conv(n5x5, 5, 1, 2), d);
        Node p = b.apply(name + "/pool", Pool2d.max(3).padding(Padding.explicit(1)).ceilMode(true).build(), x);
        p = b.apply(name + "/pool_proj", conv(poolProj, 1, 1, 0), p);
        return b.apply(name + "/output", Concat.of(1), a, c, d, p);
    }

    /** A Caffe convolution with bias and its ReLU fused. */
    private static Conv2d conv(int outChannels, int kernel, int stride, int pad) {
        return Conv2d.builder(outChannels).kernel(kernel).stride(stride).padding(Padding.explicit(pad)).activation(RELU)
                .build();
    }

    /** Caffe's 3x3 max pooling, stride 2, sizes rounded up. */
    private static Pool2d maxPool() {
        return Pool2d.max(3).stride(2).ceilMode(true).build();
    }
}
