package org.convkit.graph;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.convkit.memory.Allocator;
import org.convkit.ops.Op;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * A {@link Graph} with its parameters in host memory, accounted in an allocator of the model's
 * own under the host allocator; {@link #close()} frees them.
 */
public final class Model implements AutoCloseable {
    /** The name under which layers refer to the model's input. */
    public static final String INPUT = Graph.INPUT;

    private final Graph graph;
    private final Allocator allocator;
    private final Map<String, List<Tensor>> parameters;

    private Model(Graph graph, Allocator allocator, Map<String, List<Tensor>> parameters) {
        this.graph = graph;
        this.allocator = allocator;
        this.parameters = parameters;
    }

    /** Starts a model whose input has this shape (a {@link Graph.Builder}; {@code build(seed)} makes the model). */
    public static Graph.Builder builder(String name, Shape input) {
        return Graph.builder(name, input);
    }

    /** Writes the values of one parameter tensor of one layer. */
    @FunctionalInterface
    public interface ParameterSource {
        /** Fills {@code destination}, parameter {@code index} (in the op's argument order) of {@code layer}. */
        void fill(Layer layer, int index, Tensor destination);
    }

    /**
     * The graph with random parameters, reproducible from {@code seed}, each filled by its op's
     * {@link Op#initParameter} (by default He-uniform weights, biases in +-0.1).
     */
    public static Model withRandomParameters(Graph graph, long seed) {
        List<Layer> layers = graph.layers();
        return withParameters(graph, (l, p, t) -> l.op().initParameter(l.inputShapes(), p, t,
                seed * 1_000_003L + layers.indexOf(l) * 31L + p));
    }

    /**
     * The graph with supplied parameters: for each layer with parameters, {@code supplier} gives
     * host f32 tensors in the op's argument order, whose shapes must match; they are copied into
     * the model's own allocator (the caller keeps and closes its tensors).
     */
    public static Model withParameters(Graph graph, java.util.function.Function<Layer, List<Tensor>> supplier) {
        Map<Layer, List<Tensor>> given = new HashMap<>();
        return withParameters(graph, (l, p, t) -> {
            List<Tensor> ts = given.computeIfAbsent(l, supplier);
            List<Shape> ps = l.op().parameterShapes(l.inputShapes());
            String what = l.op().parameterNames(l.inputShapes()).get(p);
            if (ts == null || ts.size() != ps.size()) {
                throw new IllegalArgumentException("model '" + graph.name() + "': layer '" + l.name() + "' needs "
                        + ps.size() + " parameter tensors " + ps + ", got " + (ts == null ? "none" : ts.size()));
            }
            Tensor src = ts.get(p);
            if (src.dtype() != DType.F32 || src.shape().elementCount() != t.elementCount()) {
                throw new IllegalArgumentException("model '" + graph.name() + "': layer '" + l.name() + "' " + what
                        + " must be " + t.shape() + " f32, got " + src.shape() + " " + src.dtype().id());
            }
            java.lang.foreign.MemorySegment.copy(src.segment(), 0, t.segment(), 0, t.byteSize());
        });
    }

    /**
     * The graph with parameters written by {@code source} straight into the model's own
     * allocator (no intermediate copy: a 400 MB weight is written once).
     */
    public static Model withParameters(Graph graph, ParameterSource source) {
        Allocator allocator = Allocator.host().child("model " + graph.name());
        Map<String, List<Tensor>> params = new HashMap<>();
        try {
            for (Layer l : graph.layers()) {
                List<Shape> ps = l.op().parameterShapes(l.inputShapes());
                if (ps.isEmpty()) {
                    continue;
                }
                List<String> names = l.op().parameterNames(l.inputShapes());
                List<Tensor> ts = new ArrayList<>(ps.size());
                params.put(l.name(), ts);
                for (int p = 0; p < ps.size(); p++) {
                    Tensor t = Tensor.allocate(ps.get(p), DType.F32, allocator, l.name() + "/" + names.get(p));
                    ts.add(t);
                    source.fill(l, p, t);
                }
            }
        } catch (RuntimeException e) {
            params.values().forEach(ts -> ts.forEach(Tensor::close));
            allocator.close();
            throw e;
        }
        return new Model(graph, allocator, params);
    }

    /**
     * The same layers and parameters on another input shape (a new model holding copies of the
     * parameters): for another batch, or another image size where every parameter's shape is
     * independent of it (a fully convolutional network). Shapes are inferred again and checked.
     */
    public Model withInput(Shape input) {
        checkOpen();
        return withParameters(graph.withInput(input), l -> parameters(l.name()));
    }

    /** The structure. */
    public Graph graph() {
        return graph;
    }

    public String name() {
        return graph.name();
    }

    public Shape inputShape() {
        return graph.inputShape();
    }

    /** Layers in the order they run. */
    public List<Layer> layers() {
        return graph.layers();
    }

    public Layer layer(String layerName) {
        return graph.layer(layerName);
    }

    /** The last layer's output shape. */
    public Shape outputShape() {
        return graph.outputShape();
    }

    /** Learned parameters of all layers. */
    public long parameterCount() {
        return graph.parameterCount();
    }

    /** Bytes of all parameters in {@code dtype}. */
    public long parameterBytes(DType dtype) {
        return graph.parameterBytes(dtype);
    }

    /** FLOPs of one forward pass. */
    public long flops() {
        return graph.flops();
    }

    /** The parameter tensors of a layer, in the op's argument order (empty when it has none). */
    public List<Tensor> parameters(String layerName) {
        graph.layer(layerName);
        checkOpen();
        return parameters.getOrDefault(layerName, List.of());
    }

    /** The host allocator holding the parameters. */
    public Allocator allocator() {
        return allocator;
    }

    /** Frees the parameters. */
    @Override
    public void close() {
        if (allocator.isClosed()) {
            return;
        }
        parameters.values().forEach(ts -> ts.forEach(Tensor::close));
        allocator.close();
    }

    private void checkOpen() {
        if (allocator.isClosed()) {
            throw new IllegalStateException("model '" + graph.name() + "' is closed");
        }
    }

    @Override
    public String toString() {
        return "Model[" + graph + "]";
    }
}
