package org.convkit.graph;

import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
import org.convkit.tensor.Shape;

/**
 * The worked example convkit is built around: three 3x3 convolutions, stride 2, "same"
 * padding, 100 / 200 / 400 feature maps (each followed by ReLU), on an RGB 200x300 image.
 * 903,400 parameters; outputs 100x150, 50x75 and 25x38 (SAME rounds up).
 */
public final class SeedNet {
    /** Height and width of the input image. */
    public static final int HEIGHT = 200;
    public static final int WIDTH = 300;
    /** Feature maps of conv1, conv2, conv3. */
    public static final int[] MAPS = {100, 200, 400};

    private SeedNet() {
    }

    /** The seed network for a batch of {@code batch} images, parameters random from {@code seed}. */
    public static Model build(int batch, long seed) {
        return Model.withRandomParameters(graph(batch), seed);
    }

    /** The seed network's structure alone (for planning). */
    public static Graph graph(int batch) {
        Graph.Builder b = Graph.builder("seed", Shape.nchw(batch, 3, HEIGHT, WIDTH));
        for (int i = 0; i < MAPS.length; i++) {
            b.add("conv" + (i + 1), Conv2d.builder(MAPS[i]).kernel(3).stride(2).padding(Padding.SAME)
                    .activation(Activation.RELU).build());
        }
        return b.graph();
    }
}
