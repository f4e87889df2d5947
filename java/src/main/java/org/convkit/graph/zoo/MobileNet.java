package org.convkit.graph.zoo;

import org.convkit.graph.Graph;
import org.convkit.graph.Node;
import org.convkit.ops.ActivationOp;
import org.convkit.ops.BatchNorm;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Flatten;
import org.convkit.ops.GlobalPool2d;
import org.convkit.ops.Padding;
import org.convkit.ops.Softmax;
import org.convkit.tensor.Shape;

/**
 * MobileNet v1 (Howard et al. 2017, Table 1), width multiplier alpha = 1.0, 224x224 input, 1000
 * classes, as Keras applications defines it ({@code keras.applications.MobileNet}): a 3x3/2
 * convolution, then 13 depthwise-separable blocks, each a 3x3 depthwise convolution and a 1x1
 * pointwise convolution, both bias-free and each followed by batch normalization (Keras's
 * epsilon, 1e-3) and ReLU6; global average pooling, a 1x1 convolution with bias as the
 * classifier ({@code conv_preds}), softmax.
 *
 * <p>The depthwise and pointwise halves are separate {@link Conv2d}s (groups = channels, then
 * 1x1), since batch normalization and ReLU6 sit between them; ReLU6 is
 * {@link ActivationOp#clip}{@code (0, 6)}. Where a block strides, Keras pads one row and
 * column at the bottom and right ({@code ZeroPadding2D(((0, 1), (0, 1)))}) and convolves VALID;
 * the first convolution does the same. Keras's dropout before {@code conv_preds} is the identity
 * at inference and has no layer; its final reshape is a {@link Flatten}. Layer names are Keras's.
 *
 * <p>Parameters: 4,231,976 is Keras's "Trainable params" (and the paper's "4.2 million"),
 * counting batch normalization's gamma and beta ({@link Counting#LEARNED}); Keras's "Total
 * params", 4,253,864, adds the moving mean and variance.
 */
public final class MobileNet {
    /** Keras's BatchNormalization default. */
    private static final float EPSILON = 1e-3f;
    /** Output channels and stride of each depthwise-separable block, Table 1. */
    private static final int[][] BLOCKS = {{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2}, {512, 1}, {512, 1},
        {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};

    private MobileNet() {
    }

    /** The graph for {@code batch} images of 3x224x224. */
    public static Graph graph(int batch) {
        Graph.Builder b = Graph.builder("mobilenet_v1", Shape.nchw(batch, 3, 224, 224));
        Node x = b.input();
        x = convBnRelu6(b, "conv1", "conv1_bn", "conv1_relu", x,
                Conv2d.builder(32).kernel(3).stride(2).padding(keras(2)).bias(false).build());           // 32x112x112
        for (int i = 0; i < BLOCKS.length; i++) {
            int n = i + 1;
            int stride = BLOCKS[i][1];
            Conv2d depthwise = Conv2d.builder(x.shape().c()).groups(x.shape().c()).kernel(3).stride(stride)
                    .padding(keras(stride)).bias(false).build();
            x = convBnRelu6(b, "conv_dw_" + n, "conv_dw_" + n + "_bn", "conv_dw_" + n + "_relu", x, depthwise);
            Conv2d pointwise = Conv2d.builder(BLOCKS[i][0]).kernel(1).bias(false).build();
            x = convBnRelu6(b, "conv_pw_" + n, "conv_pw_" + n + "_bn", "conv_pw_" + n + "_relu", x, pointwise);
        }                                                                                                   // 1024x7x7
        x = b.apply("global_average_pooling2d", GlobalPool2d.avg(), x);                                   // 1024x1x1
        x = b.apply("conv_preds", Conv2d.builder(1000).kernel(1).build(), x);
        x = b.apply("reshape_2", Flatten.DEFAULT, x);
        x = b.apply("act_softmax", Softmax.lastAxis(), x);
        return b.graph(x);
    }

    private static Node convBnRelu6(Graph.Builder b, String conv, String bn, String relu, Node x, Conv2d op) {
        Node y = b.apply(conv, op, x);
        y = b.apply(bn, BatchNorm.withEpsilon(EPSILON), y);
        return b.apply(relu, ActivationOp.clip(0f, 6f), y);
    }

    /** Keras's padding: SAME at stride 1; at stride 2 one extra row and column at the bottom and right, VALID. */
    private static Padding keras(int stride) {
        return stride == 1 ? Padding.SAME : Padding.explicit(0, 0, 1, 1);
    }
}
