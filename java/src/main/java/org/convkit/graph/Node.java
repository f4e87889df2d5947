package org.convkit.graph;

import org.convkit.tensor.Shape;

/**
 * A tensor of a graph being built: the model's input or a layer's output, with its inferred
 * shape. {@link Graph.Builder#apply} takes nodes and returns the new layer's node, so models read
 * like Keras's functional API:
 *
 * <pre>{@code
 * Graph.Builder b = Graph.builder("block", Shape.nchw(1, 64, 56, 56));
 * Node x = b.input();
 * Node y = b.apply("conv1", Conv2d.builder(64).kernel(3).padding(Padding.SAME).activation(RELU).build(), x);
 * y = b.apply("conv2", Conv2d.builder(64).kernel(3).padding(Padding.SAME).build(), y);
 * Node out = b.apply("add", Binary.add(RELU), y, x);      // residual
 * Graph g = b.graph(out);
 * }</pre>
 *
 * @param name the tensor's name ({@link Graph#INPUT} or the layer's name)
 * @param shape its shape
 */
public record Node(String name, Shape shape) {
}
