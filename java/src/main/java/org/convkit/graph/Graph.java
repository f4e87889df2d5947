package org.convkit.graph;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.convkit.ops.Op;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;

/**
 * The structure of a model: one input, named layers in topological order (each reads the
 * input or earlier layers), with every shape inferred when the graph is built, so a graph that
 * exists is consistent. It holds no data; {@link Model} adds the parameters. Planning
 * (footprints, liveness) works on graphs.
 */
public final class Graph {
    /** The name under which layers refer to the graph's input. */
    public static final String INPUT = "input";

    private final String name;
    private final Shape inputShape;
    private final List<Layer> layers;
    private final Map<String, Layer> byName;

    private Graph(String name, Shape inputShape, List<Layer> layers) {
        this.name = name;
        this.inputShape = inputShape;
        this.layers = List.copyOf(layers);
        Map<String, Layer> m = new LinkedHashMap<>();
        for (Layer l : layers) {
            m.put(l.name(), l);
        }
        this.byName = Collections.unmodifiableMap(m);
    }

    /** Starts a graph whose input has this shape. */
    public static Builder builder(String name, Shape input) {
        return new Builder(name, input);
    }

    public String name() {
        return name;
    }

    public Shape inputShape() {
        return inputShape;
    }

    /** Layers in the order they run. */
    public List<Layer> layers() {
        return layers;
    }

    public Layer layer(String layerName) {
        Layer l = byName.get(layerName);
        if (l == null) {
            throw new IllegalArgumentException("model '" + name + "': no layer '" + layerName + "'; layers: " + byName.keySet());
        }
        return l;
    }

    /** The last layer's output shape. */
    public Shape outputShape() {
        return layers.get(layers.size() - 1).outputShape();
    }

    /** The shape of a named tensor: {@link #INPUT} or a layer's output. */
    public Shape shapeOf(String tensor) {
        return INPUT.equals(tensor) ? inputShape : layer(tensor).outputShape();
    }

    /** Learned parameters of all layers. */
    public long parameterCount() {
        long n = 0;
        for (Layer l : layers) {
            n += l.parameterCount();
        }
        return n;
    }

    /** Bytes of all parameters in {@code dtype}. */
    public long parameterBytes(DType dtype) {
        return Math.multiplyExact(parameterCount(), (long) dtype.byteSize());
    }

    /** FLOPs of one forward pass. */
    public long flops() {
        long n = 0;
        for (Layer l : layers) {
            n += l.flops();
        }
        return n;
    }

    /** The same layers on an input whose batch (dimension 0) is {@code batch}, shapes inferred again. */
    public Graph withBatch(int batch) {
        return withInput(inputShape.withBatch(batch));
    }

    /** The same layers on another input shape, shapes inferred again (and checked). */
    public Graph withInput(Shape input) {
        Builder b = builder(name, input);
        for (Layer l : layers) {
            b.add(l.name(), l.op(), l.inputs().toArray(String[]::new));
        }
        return b.graph();
    }

    @Override
    public String toString() {
        return "Graph[" + name + ", input " + inputShape + ", " + layers.size() + " layers, " + parameterCount() + " params]";
    }

    /** Adds layers with shape inference. */
    public static final class Builder {
        private final String name;
        private final Shape input;
        private final List<Layer> layers = new ArrayList<>();
        private final Map<String, Shape> shapes = new HashMap<>();

        private Builder(String name, Shape input) {
            this.name = Objects.requireNonNull(name, "model name");
            this.input = Objects.requireNonNull(input, "model input shape");
            shapes.put(INPUT, input);
        }

        /** The model's input as a node. */
        public Node input() {
            return new Node(INPUT, input);
        }

        /** The node of an earlier layer (or {@link Graph#INPUT}). */
        public Node node(String tensor) {
            Shape s = shapes.get(tensor);
            if (s == null) {
                throw new IllegalArgumentException("model '" + name + "': no tensor '" + tensor + "' yet");
            }
            return new Node(tensor, s);
        }

        /** Adds a layer named {@code layerName} reading {@code inputs}; returns its output node. */
        public Node apply(String layerName, Op op, Node... inputs) {
            String[] names = new String[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                names[i] = inputs[i].name();
            }
            add(layerName, op, names);
            return node(layerName);
        }

        /** Adds a layer named after its op and a counter ({@code conv2d_3}); returns its output node. */
        public Node apply(Op op, Node... inputs) {
            int k = 1;
            while (shapes.containsKey(op.name() + "_" + k)) {
                k++;
            }
            return apply(op.name() + "_" + k, op, inputs);
        }

        /** Adds a layer reading the previous layer's output (or the input for the first). */
        public Builder add(String layerName, Op op) {
            return add(layerName, op, layers.isEmpty() ? INPUT : layers.get(layers.size() - 1).name());
        }

        /** Adds a layer reading the named tensors. */
        public Builder add(String layerName, Op op, String... inputs) {
            Objects.requireNonNull(op, "op");
            if (layerName == null || layerName.isBlank() || shapes.containsKey(layerName)) {
                throw new IllegalArgumentException("model '" + name + "': layer name '" + layerName
                        + "' is blank or already used");
            }
            List<Shape> inShapes = new ArrayList<>();
            for (String in : inputs) {
                Shape s = shapes.get(in);
                if (s == null) {
                    throw new IllegalArgumentException("model '" + name + "': layer '" + layerName + "' reads '" + in
                            + "', which is neither the input nor an earlier layer");
                }
                inShapes.add(s);
            }
            Shape out;
            try {
                out = op.outputShape(inShapes);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("model '" + name + "': layer '" + layerName + "' does not fit its input "
                        + String.join(", ", inputs) + " " + inShapes + ": " + e.getMessage(), e);
            }
            layers.add(new Layer(layerName, op, List.of(inputs), List.copyOf(inShapes), out));
            shapes.put(layerName, out);
            return this;
        }

        /**
         * The graph whose output is {@code output}, which must be the last layer added (layers
         * run in the order they were added, and the last one's output is the model's).
         */
        public Graph graph(Node output) {
            if (layers.isEmpty() || !layers.get(layers.size() - 1).name().equals(output.name())) {
                throw new IllegalArgumentException("model '" + name + "': the output '" + output.name()
                        + "' must be the last layer added" + (layers.isEmpty() ? "" : " ('" + layers.get(layers.size() - 1).name() + "')"));
            }
            return graph();
        }

        /** The graph so far; its output is the last layer added. */
        public Graph graph() {
            if (layers.isEmpty()) {
                throw new IllegalArgumentException("model '" + name + "': has no layers");
            }
            return new Graph(name, input, layers);
        }

        /** The graph with random parameters, reproducible from {@code seed} (see {@link Model#withRandomParameters}). */
        public Model build(long seed) {
            return Model.withRandomParameters(graph(), seed);
        }
    }
}
