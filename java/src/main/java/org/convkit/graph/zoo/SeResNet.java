package org.convkit.graph.zoo;

import static org.convkit.ops.Activation.NONE;
import static org.convkit.ops.Activation.RELU;

import org.convkit.graph.Graph;
import org.convkit.graph.Node;
import org.convkit.ops.ActivationOp;
import org.convkit.ops.BatchNorm;
import org.convkit.ops.Binary;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.Pool2d;
import org.convkit.ops.SqueezeExcite;
import org.convkit.tensor.Shape;

/**
 * SE-ResNet-50 (Hu et al., Squeeze-and-Excitation Networks) as Cadene's
 * {@code pretrainedmodels.se_resnet50} defines it, the port of the authors' Caffe model:
 * ResNet-50's stages [3, 4, 6, 3] of bottlenecks, each with a squeeze-and-excitation block
 * (reduction 16, the two 1x1 convolutions with bias = {@link SqueezeExcite}) on the residual
 * branch before the add. It differs from torchvision's ResNet-50 as the Caffe model does: the
 * bottleneck strides in its first 1x1 convolution, the stem's max pooling has no padding and
 * rounds up (112 to 56), and the head is 7x7 average pooling. Logits out (no softmax).
 * 28,088,024 parameters counted as PyTorch does ({@link Counting#LEARNED}). Layer names are
 * Cadene's module paths.
 */
public final class SeResNet {
    private static final int[] LAYERS = {3, 4, 6, 3};
    private static final int EXPANSION = 4;
    private static final int REDUCTION = 16;

    private SeResNet() {
    }

    /** The graph for {@code batch} images of 3x224x224. */
    public static Graph seResnet50(int batch) {
        Graph.Builder b = Graph.builder("se_resnet50", Shape.nchw(batch, 3, 224, 224));
        Node x = b.input();
        x = b.apply("layer0.conv1", ResNet.conv(64, 7, 2), x);                               // 64x112x112
        x = b.apply("layer0.bn1", BatchNorm.create(), x);
        x = b.apply("layer0.relu1", ActivationOp.relu(), x);
        x = b.apply("layer0.pool", Pool2d.max(3).stride(2).ceilMode(true).build(), x);       // 64x56x56
        int planes = 64;
        for (int stage = 0; stage < LAYERS.length; stage++) {
            for (int i = 0; i < LAYERS[stage]; i++) {
                x = bottleneck(b, "layer" + (stage + 1) + "." + i, x, planes, stage > 0 && i == 0 ? 2 : 1);
            }
            planes *= 2;
        }
        x = b.apply("avg_pool", Pool2d.avg(7).build(), x);                                   // 2048x1x1
        x = b.apply("flatten", Flatten.DEFAULT, x);
        x = b.apply("last_linear", Dense.linear(1000, true, NONE), x);
        return b.graph(x);
    }

    /** 1x1 (striding) down to {@code planes}, 3x3, 1x1 up to {@code 4 * planes}, SE, add, ReLU. */
    private static Node bottleneck(Graph.Builder b, String name, Node x, int planes, int stride) {
        Node y = b.apply(name + ".conv1", ResNet.conv(planes, 1, stride), x);
        y = b.apply(name + ".bn1", BatchNorm.create(), y);
        y = b.apply(name + ".relu1", ActivationOp.relu(), y);
        y = b.apply(name + ".conv2", ResNet.conv(planes, 3, 1), y);
        y = b.apply(name + ".bn2", BatchNorm.create(), y);
        y = b.apply(name + ".relu2", ActivationOp.relu(), y);
        y = b.apply(name + ".conv3", ResNet.conv(planes * EXPANSION, 1, 1), y);
        y = b.apply(name + ".bn3", BatchNorm.create(), y);
        y = b.apply(name + ".se_module", SqueezeExcite.of(REDUCTION), y);
        Node shortcut = x;
        if (stride != 1 || x.shape().c() != planes * EXPANSION) {
            shortcut = b.apply(name + ".downsample.0", ResNet.conv(planes * EXPANSION, 1, stride), x);
            shortcut = b.apply(name + ".downsample.1", BatchNorm.create(), shortcut);
        }
        return b.apply(name + ".out", Binary.add(RELU), y, shortcut);
    }
}
