package org.convkit.graph.zoo;

import java.util.Objects;
import java.util.function.IntFunction;

import org.convkit.graph.Graph;
import org.convkit.graph.Model;
import org.convkit.tensor.Shape;

/**
 * One architecture of the {@link Zoo}: its name, the definition it follows, its input and
 * classes, the convention of its published parameter count, and the builder of its graph for
 * any batch.
 *
 * @param name the name commands take ({@code resnet50})
 * @param definition the reference it follows, e.g. {@code torchvision} or {@code Keras applications}
 * @param channels input channels
 * @param height input height
 * @param width input width
 * @param classes output classes: the graph's output is {@code [batch, classes]}
 * @param counting which tensors its published parameter count includes
 * @param graphs the graph for a batch
 */
public record ZooModel(String name, String definition, int channels, int height, int width, int classes,
        Counting counting, IntFunction<Graph> graphs) {

    public ZooModel {
        Objects.requireNonNull(name, "zoo model name");
        Objects.requireNonNull(definition, "zoo model definition");
        Objects.requireNonNull(counting, "zoo model counting");
        Objects.requireNonNull(graphs, "zoo model graphs");
    }

    /** The input for {@code batch} images, NCHW. */
    public Shape inputShape(int batch) {
        return Shape.nchw(batch, channels, height, width);
    }

    /** The graph for {@code batch} images (batch at least 1). */
    public Graph graph(int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("zoo model '" + name + "': batch must be at least 1, got " + batch);
        }
        return graphs.apply(batch);
    }

    /** The model for {@code batch} images with random parameters from {@code seed}; the caller closes it. */
    public Model build(int batch, long seed) {
        return Model.withRandomParameters(graph(batch), seed);
    }

    /** The parameter count as the published figure counts it (see {@link #counting()}). */
    public long parameterCount() {
        return counting.count(graph(1));
    }

    /** The input per image as {@code CxHxW}, e.g. {@code 3x224x224}. */
    public String describeInput() {
        return channels + "x" + height + "x" + width;
    }
}
