package org.convkit.graph;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.convkit.memory.Allocator;
import org.convkit.ops.Op;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * A model: one input, named layers in topological order (each reads the input or earlier
 * layers), and their parameters in host memory. Shapes are inferred when the model is built, so
 * a model that exists is consistent. The parameters are accounted in an allocator of the model's
 * own under the host allocator; {@link #close()} frees them.
 */
public final class Model implements AutoCloseable {
    /** The name under which layers refer to the model's input. */
    public static final String INPUT = "input";

    /**
     * One layer.
     *
     * @param name unique name, e.g. {@code conv1}
     * @param op what it computes
     * @param inputs names of the tensors it reads ({@link #INPUT} or earlier layers)
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

    private final String name;
    private final Shape inputShape;
    private final List<Layer> layers;
    private final Map<String, Layer> byName;
    private final Allocator allocator;
    private final Map<String, List<Tensor>> parameters;

    private Model(String name, Shape inputShape, List<Layer> layers, Allocator allocator,
            Map<String, List<Tensor>> parameters) {
        this.name = name;
        this.inputShape = inputShape;
        this.layers = List.copyOf(layers);
        Map<String, Layer> m = new LinkedHashMap<>();
        for (Layer l : layers) {
            m.put(l.name(), l);
        }
        this.byName = Collections.unmodifiableMap(m);
        this.allocator = allocator;
        this.parameters = parameters;
    }

    /** Starts a model whose input has this shape. */
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

    /** The parameter tensors of a layer, in the op's argument order (empty when it has none). */
    public List<Tensor> parameters(String layerName) {
        layer(layerName);
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
            throw new IllegalStateException("model '" + name + "' is closed");
        }
    }

    @Override
    public String toString() {
        return "Model[" + name + ", input " + inputShape + ", " + layers.size() + " layers, " + parameterCount() + " params]";
    }

    /** Adds layers with shape inference; {@link #build(long)} creates the parameters. */
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

        /** Adds a layer reading the previous layer's output (or the model input for the first). */
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
         * Builds the model with random parameters, reproducible from {@code seed}, each filled by
         * its op's {@link Op#initParameter} (by default He-uniform weights, biases in +-0.1).
         */
        public Model build(long seed) {
            if (layers.isEmpty()) {
                throw new IllegalArgumentException("model '" + name + "': has no layers");
            }
            Allocator allocator = Allocator.host().child("model " + name);
            Map<String, List<Tensor>> params = new HashMap<>();
            try {
                for (int i = 0; i < layers.size(); i++) {
                    Layer l = layers.get(i);
                    List<Shape> ps = l.op().parameterShapes(l.inputShapes());
                    List<String> names = l.op().parameterNames(l.inputShapes());
                    List<Tensor> ts = new ArrayList<>(ps.size());
                    params.put(l.name(), ts);
                    for (int p = 0; p < ps.size(); p++) {
                        Tensor t = Tensor.allocate(ps.get(p), DType.F32, allocator, l.name() + "/" + names.get(p));
                        ts.add(t);
                        l.op().initParameter(l.inputShapes(), p, t, seed * 1_000_003L + i * 31L + p);
                    }
                }
            } catch (RuntimeException e) {
                params.values().forEach(ts -> ts.forEach(Tensor::close));
                allocator.close();
                throw e;
            }
            return new Model(name, input, layers, allocator, params);
        }
    }
}
