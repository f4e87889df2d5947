package org.convkit.graph.zoo;

import static org.convkit.ops.Activation.NONE;

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
import org.convkit.ops.SeparableConv2d;
import org.convkit.ops.Softmax;
import org.convkit.tensor.Shape;

/**
 * Xception (Chollet 2017, Figure 5) as Keras applications defines it
 * ({@code keras.applications.Xception}, 299x299 input, 1000 classes, softmax at the end): an
 * entry flow (two plain 3x3 convolutions, then three blocks of two separable convolutions and a
 * 3x3/2 max pooling with a strided 1x1 projection shortcut), a middle flow of eight residual
 * blocks of three separable convolutions at 728 channels, and an exit flow (one more projection
 * block, two separable convolutions, global average pooling, dense). Every convolution is
 * bias-free and followed by batch normalization with Keras's epsilon, 1e-3; each separable
 * convolution is one fused {@link SeparableConv2d} (depthwise then pointwise, no bias in
 * either). In blocks 3 to 13 the ReLU comes before the separable convolution, so the shortcut
 * reads the block's input before it.
 *
 * <p>Layer names are Keras's ({@code block4_sepconv2_bn}); the shortcut convolutions, unnamed
 * there, are {@code blockN_shortcut}, and the adds {@code blockN_add}.
 *
 * <p>Parameters: Keras's published 22,910,480 is "Total params", which counts batch
 * normalization's moving mean and variance ({@link Counting#STORED}); "Trainable params" is
 * 22,855,952.
 */
public final class Xception {
    /** Keras's BatchNormalization default. */
    private static final float EPSILON = 1e-3f;

    private Xception() {
    }

    /** The graph for {@code batch} images of 3x299x299. */
    public static Graph graph(int batch) {
        Graph.Builder b = Graph.builder("xception", Shape.nchw(batch, 3, 299, 299));
        Node x = b.input();
        // Entry flow.
        x = convBn(b, "block1_conv1", x, Conv2d.builder(32).kernel(3).stride(2).bias(false).build());  // 32x149x149
        x = b.apply("block1_conv1_act", ActivationOp.relu(), x);
        x = convBn(b, "block1_conv2", x, Conv2d.builder(64).kernel(3).bias(false).build());             // 64x147x147
        x = b.apply("block1_conv2_act", ActivationOp.relu(), x);
        x = entryBlock(b, 2, x, 128, false);                                                               // 128x74x74
        x = entryBlock(b, 3, x, 256, true);                                                                // 256x37x37
        x = entryBlock(b, 4, x, 728, true);                                                                // 728x19x19
        // Middle flow.
        for (int block = 5; block <= 12; block++) {
            Node y = x;
            for (int i = 1; i <= 3; i++) {
                String name = "block" + block + "_sepconv" + i;
                y = b.apply(name + "_act", ActivationOp.relu(), y);
                y = sepConvBn(b, name, y, 728);
            }
            x = b.apply("block" + block + "_add", Binary.add(), y, x);
        }
        // Exit flow.
        Node shortcut = convBn(b, "block13_shortcut", x, projection(1024));
        Node y = b.apply("block13_sepconv1_act", ActivationOp.relu(), x);
        y = sepConvBn(b, "block13_sepconv1", y, 728);
        y = b.apply("block13_sepconv2_act", ActivationOp.relu(), y);
        y = sepConvBn(b, "block13_sepconv2", y, 1024);
        y = b.apply("block13_pool", maxPool(), y);                                                         // 1024x10x10
        x = b.apply("block13_add", Binary.add(), y, shortcut);
        x = sepConvBn(b, "block14_sepconv1", x, 1536);
        x = b.apply("block14_sepconv1_act", ActivationOp.relu(), x);
        x = sepConvBn(b, "block14_sepconv2", x, 2048);
        x = b.apply("block14_sepconv2_act", ActivationOp.relu(), x);                                      // 2048x10x10
        x = b.apply("avg_pool", GlobalPool2d.avg(), x);
        x = b.apply("flatten", Flatten.DEFAULT, x);
        x = b.apply("predictions", Dense.linear(1000, true, NONE), x);
        x = b.apply("predictions_softmax", Softmax.lastAxis(), x);
        return b.graph(x);
    }

    /**
     * Entry-flow block {@code n}: [ReLU] separable conv, BN, ReLU, separable conv, BN, 3x3/2 max
     * pooling, plus a strided 1x1 projection of the block's input. Block 2 follows the plain
     * convolutions' ReLU and so starts without one.
     */
    private static Node entryBlock(Graph.Builder b, int n, Node x, int channels, boolean leadingRelu) {
        String block = "block" + n;
        Node shortcut = convBn(b, block + "_shortcut", x, projection(channels));
        Node y = x;
        if (leadingRelu) {
            y = b.apply(block + "_sepconv1_act", ActivationOp.relu(), y);
        }
        y = sepConvBn(b, block + "_sepconv1", y, channels);
        y = b.apply(block + "_sepconv2_act", ActivationOp.relu(), y);
        y = sepConvBn(b, block + "_sepconv2", y, channels);
        y = b.apply(block + "_pool", maxPool(), y);
        return b.apply(block + "_add", Binary.add(), y, shortcut);
    }

    /** A 3x3 SAME separable convolution without biases, then batch normalization. */
    private static Node sepConvBn(Graph.Builder b, String name, Node x, int outChannels) {
        SeparableConv2d sep = SeparableConv2d.builder(outChannels).kernel(3).padding(Padding.SAME).pointwiseBias(false)
                .build();
        Node y = b.apply(name, sep, x);
        return b.apply(name + "_bn", BatchNorm.withEpsilon(EPSILON), y);
    }

    private static Node convBn(Graph.Builder b, String name, Node x, Conv2d conv) {
        Node y = b.apply(name, conv, x);
        return b.apply(name + "_bn", BatchNorm.withEpsilon(EPSILON), y);
    }

    /** The shortcut: 1x1, stride 2, SAME, no bias. */
    private static Conv2d projection(int outChannels) {
        return Conv2d.builder(outChannels).kernel(1).stride(2).padding(Padding.SAME).bias(false).build();
    }

    private static Pool2d maxPool() {
        return Pool2d.max(3).stride(2).padding(Padding.SAME).build();
    }
}
