package org.convkit.graph;

import java.util.List;

import org.convkit.ops.Op;
import org.convkit.tensor.Shape;

/**
 * One layer.
 *
 * @param name unique name, e.g. {@code conv1}
 * @param op what it computes
 * @param inputs names of the tensors it reads ({@link Graph#INPUT} or earlier layers)
 * @param inputShapes their shapes
 * @param outputShape the shape it produces
 */
public record Layer(String name, Op op, List<String> inputs, List<Shape> inputShapes, Shape outputShape) {
    /** Learned parameters of this layer. */
    public long parameterCount() {
        return op.parameterCount(inputShapes);
    }

    /** FLOPs of one run. */
    public long flops() {
        return op.flops(inputShapes);
    }

    /** The layer's case, e.g. {@code conv2d(n=1,c=3,h=200,w=300,oc=100,k=3,s=2,same,relu)}. */
    public String describe() {
        return op.describe(inputShapes);
    }
}
