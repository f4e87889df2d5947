package org.convkit.graph.zoo;

import static org.convkit.ops.Activation.NONE;
import static org.convkit.ops.Activation.RELU;

import org.convkit.graph.Graph;
import org.convkit.graph.Node;
import org.convkit.ops.ActivationOp;
import org.convkit.ops.BatchNorm;
import org.convkit.ops.Binary;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.GlobalPool2d;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.tensor.Shape;

/**
 * ResNet-18, -34 and -50 (He et al. 2015, Table 1) as torchvision defines them
 * ({@code torchvision.models.resnet}): convolutions without bias, each followed by batch
 * normalization (epsilon 1e-5); a 7x7/2 stem and 3x3/2 max pooling; four stages of basic blocks
 * (two 3x3) or bottlenecks (1x1, 3x3, 1x1 with 4x expansion), the first block of stages 2-4
 * striding by 2 and projecting its shortcut with a 1x1 convolution and batch normalization; the
 * residual add fused with the block's final ReLU; global average pooling and a 1000-way fully
 * connected layer, logits out (no softmax). ResNet-50 is torchvision's "v1.5": the bottleneck
 * strides in its 3x3 convolution, not in the first 1x1 as the paper's Caffe model does.
 *
 * <p>Layer names are torchvision's module paths ({@code layer2.0.downsample.0}); the ReLU
 * module torchvision reuses within a block gets one layer per use ({@code relu1},
 * {@code relu2}), and the fused add-and-ReLU is {@code out}.
 *
 * <p>Parameters: torchvision's published counts (11,689,512 / 21,797,672 / 25,557,032) are
 * PyTorch's {@code parameters()}, whose batch normalization has weight and bias; the running
 * mean and variance are buffers. {@link Counting#LEARNED} counts exactly that.
 */
public final class ResNet {
    /** Blocks per stage, Table 1 of the paper. */
    private static final int[] LAYERS_18 = {2, 2, 2, 2};
    private static final int[] LAYERS_34_50 = {3, 4, 6, 3};
    /** Output channels of a bottleneck relative to its 3x3 width. */
    private static final int EXPANSION = 4;

    private ResNet() {
    }

    /** ResNet-18: basic blocks, [2, 2, 2, 2]. */
    public static Graph resnet18(int batch) {
        return build("resnet18", batch, LAYERS_18, false);
    }

    /** ResNet-34: basic blocks, [3, 4, 6, 3]. */
    public static Graph resnet34(int batch) {
        return build("resnet34", batch, LAYERS_34_50, false);
    }

    /** ResNet-50: bottlenecks, [3, 4, 6, 3]. */
    public static Graph resnet50(int batch) {
        return build("resnet50", batch, LAYERS_34_50, true);
    }

    private static Graph build(String name, int batch, int[] layers, boolean bottleneck) {
        Graph.Builder b = Graph.builder(name, Shape.nchw(batch, 3, 224, 224));
        Node x = b.input();
        x = b.apply("conv1", conv(64, 7, 2), x);                                           // 64x112x112
        x = b.apply("bn1", BatchNorm.create(), x);
        x = b.apply("relu", ActivationOp.relu(), x);
        x = b.apply("maxpool", Pool2d.max(3).stride(2).padding(Padding.explicit(1)).build(), x);  // 64x56x56
        int planes = 64;
        for (int stage = 0; stage < layers.length; stage++) {
            for (int i = 0; i < layers[stage]; i++) {
                String block = "layer" + (stage + 1) + "." + i;
                int stride = stage > 0 && i == 0 ? 2 : 1;
                x = bottleneck ? bottleneck(b, block, x, planes, stride) : basicBlock(b, block, x, planes, stride);
            }
            planes *= 2;
        }
        x = b.apply("avgpool", GlobalPool2d.avg(), x);
        x = b.apply("flatten", Flatten.DEFAULT, x);
        x = b.apply("fc", Dense.linear(1000, true, NONE), x);
        return b.graph(x);
    }

    /** Two 3x3 convolutions, the first striding; output {@code planes} channels. */
    private static Node basicBlock(Graph.Builder b, String name, Node x, int planes, int stride) {
        Node y = b.apply(name + ".conv1", conv(planes, 3, stride), x);
        y = b.apply(name + ".bn1", BatchNorm.create(), y);
        y = b.apply(name + ".relu1", ActivationOp.relu(), y);
        y = b.apply(name + ".conv2", conv(planes, 3, 1), y);
        y = b.apply(name + ".bn2", BatchNorm.create(), y);
        return b.apply(name + ".out", Binary.add(RELU), y, shortcut(b, name, x, planes, stride));
    }

    /** 1x1 down to {@code planes}, 3x3 (striding), 1x1 up to {@code 4 * planes}. */
    private static Node bottleneck(Graph.Builder b, String name, Node x, int planes, int stride) {
        Node y = b.apply(name + ".conv1", conv(planes, 1, 1), x);
        y = b.apply(name + ".bn1", BatchNorm.create(), y);
        y = b.apply(name + ".relu1", ActivationOp.relu(), y);
        y = b.apply(name + ".conv2", conv(planes, 3, stride), y);
        y = b.apply(name + ".bn2", BatchNorm.create(), y);
        y = b.apply(name + ".relu2", ActivationOp.relu(), y);
        y = b.apply(name + ".conv3", conv(planes * EXPANSION, 1, 1), y);
        y = b.apply(name + ".bn3", BatchNorm.create(), y);
        return b.apply(name + ".out", Binary.add(RELU), y, shortcut(b, name, x, planes * EXPANSION, stride));
    }

    /** The identity, or a strided 1x1 projection with batch normalization where the shape changes. */
    private static Node shortcut(Graph.Builder b, String name, Node x, int outChannels, int stride) {
        if (stride == 1 && x.shape().c() == outChannels) {
            return x;
        }
        Node s = b.apply(name + ".downsample.0", conv(outChannels, 1, stride), x);
        return b.apply(name + ".downsample.1", BatchNorm.create(), s);
    }

    /** A bias-free convolution with torchvision's padding, {@code kernel / 2}. */
    static Conv2d conv(int outChannels, int kernel, int stride) {
        return Conv2d.builder(outChannels).kernel(kernel).stride(stride).padding(Padding.explicit(kernel / 2)).bias(false)
                .build();
    }
}
