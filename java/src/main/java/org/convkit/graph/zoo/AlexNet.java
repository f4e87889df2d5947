package org.convkit.graph.zoo;

import static org.convkit.ops.Activation.NONE;
import static org.convkit.ops.Activation.RELU;

import org.convkit.graph.Graph;
import org.convkit.graph.Node;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.Lrn;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.ops.Softmax;
import org.convkit.tensor.Shape;

/**
 * AlexNet as Caffe's {@code bvlc_alexnet} ({@code models/bvlc_alexnet/deploy.prototxt}) defines
 * it: one GPU's network that keeps the paper's two-GPU split as {@code group: 2} in conv2, conv4
 * and conv5, LRN after the ReLU of conv1 and conv2 and before their pooling, a 227x227 input,
 * 1000 classes, softmax ({@code prob}) at the end. 60,965,224 parameters.
 *
 * <p>Caffe's LRN divides alpha by the window size and uses k = 1 (its default; the paper's k
 * is 2), which is {@link Lrn#onnx}{@code (5, 1e-4, 0.75, 1)}. Caffe's pooling rounds output
 * sizes up; here every pool divides exactly (55, 27, 13 to 27, 13, 6), so floor and ceil agree.
 * Dropout is the identity at inference and has no layer.
 */
public final class AlexNet {
    private AlexNet() {
    }

    /** The graph for {@code batch} images of 3x227x227. */
    public static Graph graph(int batch) {
        Graph.Builder b = Graph.builder("alexnet", Shape.nchw(batch, 3, 227, 227));
        Lrn lrn = Lrn.onnx(5, 1e-4f, 0.75f, 1f);
        Node x = b.input();
        x = b.apply("conv1", conv(96, 11, 4, 0, 1), x);                           // 96x55x55
        x = b.apply("norm1", lrn, x);
        x = b.apply("pool1", maxPool(), x);                                       // 96x27x27
        x = b.apply("conv2", conv(256, 5, 1, 2, 2), x);                           // 256x27x27
        x = b.apply("norm2", lrn, x);
        x = b.apply("pool2", maxPool(), x);                                       // 256x13x13
        x = b.apply("conv3", conv(384, 3, 1, 1, 1), x);
        x = b.apply("conv4", conv(384, 3, 1, 1, 2), x);
        x = b.apply("conv5", conv(256, 3, 1, 1, 2), x);
        x = b.apply("pool5", maxPool(), x);                                       // 256x6x6
        x = b.apply("flatten", Flatten.DEFAULT, x);                               // 9216
        x = b.apply("fc6", Dense.linear(4096, true, RELU), x);
        x = b.apply("fc7", Dense.linear(4096, true, RELU), x);
        x = b.apply("fc8", Dense.linear(1000, true, NONE), x);
        x = b.apply("prob", Softmax.lastAxis(), x);
        return b.graph(x);
    }

    /** A Caffe convolution with bias and its ReLU fused. */
    private static Conv2d conv(int outChannels, int kernel, int stride, int pad, int groups) {
        return Conv2d.builder(outChannels).kernel(kernel).stride(stride).padding(Padding.explicit(pad)).groups(groups)
                .activation(RELU).build();
    }

    /** Caffe's overlapping 3x3 max pooling, stride 2, sizes rounded up. */
    private static Pool2d maxPool() {
        return Pool2d.max(3).stride(2).ceilMode(true).build();
    }
}
