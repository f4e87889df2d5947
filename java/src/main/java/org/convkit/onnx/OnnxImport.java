package org.convkit.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.convkit.graph.Graph;
import org.convkit.graph.Layer;
import org.convkit.graph.Model;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * Imports an ONNX model into a convkit {@link Model}: one input (the graph input that is not an
 * initializer), one layer per compute node (converted by {@link OnnxOps}), parameters from the
 * initializers and from constant subgraphs, which are folded at import: {@code Constant},
 * {@code ConstantOfShape}, and {@code Reshape} / {@code Flatten} / {@code Identity} /
 * {@code Dropout} / {@code Unsqueeze} / {@code Squeeze} of constants. A graph is static: shapes
 * come from the declared input shape (a symbolic or missing dimension counts as 1, unless a
 * shape is given). When another batch size is asked for, a constant {@code Reshape} target whose
 * first entry is the declared batch, applied to data whose first dimension is the asked batch,
 * gets the asked batch: exporters write the batch of the example they traced into such targets.
 *
 * <p>Constants stay lazy until the model is built: a filled {@code ConstantOfShape} of 400 MB is
 * written once, straight into the model's parameter tensor.
 *
 * <p>Everything that cannot be imported is collected first and reported in one
 * {@link OnnxImportException}: every unsupported operator with its node count, and every node
 * whose attributes or inputs convkit cannot take.
 */
public final class OnnxImport {
    private OnnxImport() {
    }

    /** A value known at import time: an initializer, a constant node, or a fold of those. */
    private sealed interface Const {
        long[] dims();

        /** The value as a tensor proto (materialized; for small constants such as shapes and scales). */
        OnnxTensor tensor();

        /** Writes the value as floats into {@code t}, which has the same element count. */
        void writeTo(Tensor t);
    }

    private record Given(OnnxTensor value, long[] dims) implements Const {
        @Override
        public OnnxTensor tensor() {
            return new OnnxTensor(value.name(), value.dataType(), dims, value.data());
        }

        @Override
        public void writeTo(Tensor t) {
            float[] v = value.floats();
            for (int i = 0; i < v.length; i++) {
                t.set(i, v[i]);
            }
        }
    }

    /** ConstantOfShape: every element {@code value}. */
    private record Filled(long[] dims, int dataType, double value) implements Const {
        @Override
        public OnnxTensor tensor() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            int size = OnnxTensor.elementSize(dataType);
            if (n * size > 1 << 26) {
                throw new OnnxFormatException("a ConstantOfShape of " + n + " elements is read as a value (a shape or "
                        + "a scale), which convkit does for constants of up to 64 MiB");
            }
            ByteBuffer b = ByteBuffer.allocate((int) n * size).order(ByteOrder.LITTLE_ENDIAN);
            for (long i = 0; i < n; i++) {
                switch (dataType) {
                    case OnnxTensor.FLOAT -> b.putFloat((float) value);
                    case OnnxTensor.DOUBLE -> b.putDouble(value);
                    case OnnxTensor.INT64 -> b.putLong((long) value);
                    case OnnxTensor.INT32 -> b.putInt((int) value);
                    default -> b.put((byte) value);
                }
            }
            return new OnnxTensor("", dataType, dims, b.array());
        }

        @Override
        public void writeTo(Tensor t) {
            t.fill((float) value);
        }
    }

    /** What the conversion produced before any parameter is materialized. */
    private record Plan(Graph graph, Map<String, List<Const>> parameters) {
    }

    /** Imports a model file at its declared input shape. */
    public static Model load(Path file) {
        return load(Onnx.readModel(file), null, name(file));
    }

    /** Imports a model file for {@code input} (e.g. another batch size). */
    public static Model load(Path file, Shape input) {
        return load(Onnx.readModel(file), input, name(file));
    }

    /**
     * Parameter bytes a model may materialize unless the caller gives another limit: the system
     * property {@code convkit.onnx.maxParameterBytes}, 8 GiB if unset.
     */
    public static long defaultMaxParameterBytes() {
        return Long.getLong("convkit.onnx.maxParameterBytes", 8L << 30);
    }

    /** Imports a parsed model; {@code input} overrides the declared input shape when not null. */
    public static Model load(OnnxModel model, Shape input, String name) {
        return load(model, input, name, defaultMaxParameterBytes());
    }

    /**
     * Imports a parsed model whose parameters (as f32) may total at most {@code maxParameterBytes}:
     * every parameter's declared size is checked against its op and the total against the limit
     * before any of them is allocated, so a file that declares a huge constant is refused at once.
     *
     * @throws OnnxImportException naming what cannot be imported and why
     */
    public static Model load(OnnxModel model, Shape input, String name, long maxParameterBytes) {
        try {
            return materialize(model, input, name, maxParameterBytes);
        } catch (org.convkit.ConvkitException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new OnnxImportException(modelNode(name), e.getMessage());
        } catch (RuntimeException e) {
            // A bug of the importer: still a convkit exception for the caller, the cause kept for the fuzz tests.
            throw new OnnxImportException(modelNode(name), "internal error of the importer: " + e, e);
        }
    }

    private static Model materialize(OnnxModel model, Shape input, String name, long maxParameterBytes) {
        Plan plan = plan(model, input, name);
        long total = 0;
        for (Layer l : plan.graph().layers()) {
            List<Shape> shapes = l.op().parameterShapes(l.inputShapes());
            List<Const> given = plan.parameters().get(l.name());
            if (shapes.size() != given.size()) {
                throw new OnnxImportException(modelNode(name), "layer '" + l.name() + "' (" + l.op().name() + ") needs "
                        + shapes.size() + " parameter tensors, the file gives " + given.size());
            }
            for (int p = 0; p < shapes.size(); p++) {
                long want = shapes.get(p).elementCount();
                long have = elementCount(given.get(p).dims());
                if (want != have) {
                    throw new OnnxImportException(modelNode(name), "layer '" + l.name() + "' parameter " + p + " must have "
                            + want + " elements (" + shapes.get(p) + "), the file declares " + have + " "
                            + java.util.Arrays.toString(given.get(p).dims()));
                }
                total += shapes.get(p).byteSize(org.convkit.tensor.DType.F32);
            }
            if (total > maxParameterBytes) {
                throw new OnnxImportException(modelNode(name), "its parameters need more than " + maxParameterBytes
                        + " bytes (the limit; -Dconvkit.onnx.maxParameterBytes raises it), " + total + " B up to layer '"
                        + l.name() + "'");
            }
        }
        return Model.withParameters(plan.graph(), (Layer l, int p, Tensor t) ->
                plan.parameters().get(l.name()).get(p).writeTo(t));
    }

    private static OnnxNode modelNode(String name) {
        return new OnnxNode(name, "Model", "", List.of(), List.of(), Map.of());
    }

    /** The element count of declared dimensions; -1 when one is negative or the product overflows. */
    private static long elementCount(long[] dims) {
        long n = 1;
        for (long d : dims) {
            if (d < 0) {
                return -1;
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                return -1;
            }
        }
        return n;
    }

    /** The structure of a model file alone (for planning), its batch set to {@code batch}. */
    public static Graph graph(Path file, int batch) {
        OnnxModel m = Onnx.readModel(file);
        Shape declared = declaredInput(m.graph(), initializerNames(m.graph()));
        return plan(m, declared.withBatch(batch), name(file)).graph();
    }

    /** The input a model declares, symbolic or missing dimensions as 1. */
    public static Shape declaredInput(Path file) {
        OnnxModel m = Onnx.readModel(file);
        return declaredInput(m.graph(), initializerNames(m.graph()));
    }

    private static String name(Path file) {
        String f = file.getFileName().toString();
        return f.endsWith(".onnx") ? f.substring(0, f.length() - 5) : f;
    }

    private static Set<String> initializerNames(OnnxGraph g) {
        Set<String> s = new HashSet<>();
        g.initializers().forEach(t -> s.add(t.name()));
        return s;
    }

    /** The single graph input that is not an initializer and that some node reads. */
    private static OnnxValueInfo input(OnnxGraph g, Set<String> initializers) {
        Set<String> read = new HashSet<>();
        g.nodes().forEach(n -> read.addAll(n.inputs()));
        List<OnnxValueInfo> feeds = g.inputs().stream()
                .filter(v -> !initializers.contains(v.name()) && read.contains(v.name())).toList();
        if (feeds.size() != 1) {
            throw new OnnxImportException(new OnnxNode(g.name(), "Graph", "", List.of(), List.of(), Map.of()),
                    "convkit models have one input; this graph reads " + feeds.size() + ": " + feeds);
        }
        return feeds.get(0);
    }

    private static Shape declaredInput(OnnxGraph g, Set<String> initializers) {
        OnnxValueInfo in = input(g, initializers);
        long[] dims = in.dims();
        if (dims.length < 1 || dims.length > Shape.MAX_RANK) {
            throw new OnnxImportException(new OnnxNode(g.name(), "Graph", "", List.of(), List.of(), Map.of()),
                    "input '" + in.name() + "' has rank " + dims.length + "; convkit tensors have rank 1.." + Shape.MAX_RANK);
        }
        int[] d = new int[dims.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = dims[i] <= 0 ? 1 : (int) Math.min(dims[i], Integer.MAX_VALUE);
        }
        return Shape.of(d);
    }

    private static Plan plan(OnnxModel model, Shape inputShape, String name) {
        OnnxGraph g = model.graph();
        Set<String> initializers = initializerNames(g);
        OnnxValueInfo in = input(g, initializers);
        Shape input = inputShape != null ? inputShape : declaredInput(g, initializers);

        Map<String, Const> constants = new HashMap<>();
        for (OnnxTensor t : g.initializers()) {
            constants.put(t.name(), new Given(t, t.dims()));
        }
        Map<String, String> layerOf = new HashMap<>();
        layerOf.put(in.name(), Graph.INPUT);
        Graph.Builder b = Graph.builder(name, input);
        Map<String, List<Const>> parameters = new LinkedHashMap<>();
        Map<String, Integer> unsupported = new TreeMap<>();
        for (OnnxNode node : g.nodes()) {
            if (!FOLDABLE.contains(node.opType()) && !OnnxOps.supported().contains(node.opType())) {
                unsupported.merge(node.opType(), 1, Integer::sum);
            }
        }
        int declaredBatch = declaredInput(g, initializers).dim(0);
        List<String> problems = new ArrayList<>();
        String lastLayer = null;
        // Outputs of nodes that failed: their readers are not reported again.
        Set<String> failed = new HashSet<>();
        Set<String> read = new HashSet<>();
        g.nodes().forEach(n -> read.addAll(n.inputs()));
        g.outputs().forEach(o -> read.add(o.name()));

        RuntimeException internal = null;
        for (OnnxNode node : g.nodes()) {
            if (node.inputs().stream().anyMatch(failed::contains)) {
                failed.addAll(node.outputs());
                continue;
            }
            if (node.outputs().isEmpty() || node.outputs().get(0).isEmpty()) {
                problems.add(node.label() + ": it has no output");
                continue;
            }
            try {
                if (fold(node, constants)) {
                    continue;
                }
            } catch (OnnxImportException e) {
                problems.add(e.getMessage());
                failed.addAll(node.outputs());
                continue;
            } catch (org.convkit.ConvkitException | IllegalArgumentException e) {
                problems.add(node.label() + ": " + e.getMessage());
                failed.addAll(node.outputs());
                continue;
            } catch (RuntimeException e) {
                problems.add(node.label() + ": internal error of the importer: " + e);
                internal = internal == null ? e : internal;
                failed.addAll(node.outputs());
                continue;
            }
            for (String extra : node.outputs().subList(Math.min(1, node.outputs().size()), node.outputs().size())) {
                if (!extra.isEmpty() && read.contains(extra)) {
                    problems.add(node.label() + ": its output '" + extra + "' is read, but convkit's ops have one output");
                    failed.addAll(node.outputs());
                }
            }
            if (failed.contains(node.outputs().get(0))) {
                continue;
            }
            if (!OnnxOps.supported().contains(node.opType())) {
                failed.addAll(node.outputs());
                continue;
            }
            try {
                OnnxOps.Converted c = OnnxOps.convert(context(node, model, constants, layerOf, b, declaredBatch,
                        input.dim(0)));
                List<String> activations = new ArrayList<>();
                List<Const> params = new ArrayList<>();
                for (int k = 0; k < c.arguments().size(); k++) {
                    int index = c.arguments().get(k);
                    if (index >= node.inputs().size() || node.inputs().get(index).isEmpty()) {
                        throw new OnnxImportException(node, "input " + index + " is not given");
                    }
                    String tensor = node.inputs().get(index);
                    if (k < c.activationInputs()) {
                        String layer = layerOf.get(tensor);
                        if (layer == null) {
                            throw new OnnxImportException(node, "input '" + tensor + "' is "
                                    + (constants.containsKey(tensor) ? "a constant" : "unknown")
                                    + " where convkit's op takes an activation");
                        }
                        activations.add(layer);
                    } else {
                        Const p = constants.get(tensor);
                        if (p == null) {
                            throw new OnnxImportException(node, "parameter input '" + tensor
                                    + "' is computed at run time; convkit needs it constant");
                        }
                        params.add(p);
                    }
                }
                String layer = node.outputs().get(0).equals(Graph.INPUT) ? Graph.INPUT + "_" : node.outputs().get(0);
                b.add(layer, c.op(), activations.toArray(String[]::new));
                layerOf.put(node.outputs().get(0), layer);
                parameters.put(layer, params);
                lastLayer = layer;
            } catch (OnnxImportException | IllegalArgumentException e) {
                problems.add(e.getMessage());
                failed.addAll(node.outputs());
            } catch (org.convkit.ConvkitException e) {
                problems.add(node.label() + ": " + e.getMessage());
                failed.addAll(node.outputs());
            } catch (RuntimeException e) {
                problems.add(node.label() + ": internal error of the importer: " + e);
                internal = internal == null ? e : internal;
                failed.addAll(node.outputs());
            }
        }
        if (!unsupported.isEmpty() || !problems.isEmpty()) {
            StringBuilder sb = new StringBuilder("model '" + name + "' cannot be imported:");
            if (!unsupported.isEmpty()) {
                sb.append("\n  unsupported operators: ");
                List<String> parts = new ArrayList<>();
                unsupported.forEach((op, count) -> parts.add(op + " (" + count + " node" + (count == 1 ? "" : "s") + ")"));
                sb.append(String.join(", ", parts));
            }
            for (String p : problems) {
                sb.append("\n  ").append(p);
            }
            throw new OnnxImportException(modelNode(name), sb.toString(), internal);
        }
        if (g.outputs().size() != 1 || lastLayer == null || !lastLayer.equals(layerOf.get(g.outputs().get(0).name()))) {
            throw new OnnxImportException(new OnnxNode(name, "Model", "", List.of(), List.of(), Map.of()),
                    "convkit models have one output, produced by the last node; this graph's outputs are " + g.outputs());
        }
        return new Plan(b.graph(), parameters);
    }

    /** Operators that {@link #fold} may turn into constants. */
    private static final Set<String> FOLDABLE = Set.of("Constant", "ConstantOfShape", "Reshape", "Flatten", "Identity",
            "Dropout", "Unsqueeze", "Squeeze");

    /** Folds a node whose inputs are all constant and whose result is a constant; false if it is a compute node. */
    private static boolean fold(OnnxNode node, Map<String, Const> constants) {
        String out = node.outputs().isEmpty() ? null : node.outputs().get(0);
        switch (node.opType()) {
            case "Constant" -> {
                OnnxAttribute v = node.attributes().get("value");
                if (v == null) {
                    throw new OnnxImportException(node, "only the tensor 'value' form of Constant is supported");
                }
                OnnxTensor t = v.asTensor();
                constants.put(out, new Given(t, t.dims()));
                return true;
            }
            case "ConstantOfShape" -> {
                long[] dims = !node.inputs().isEmpty() && constants.containsKey(node.inputs().get(0))
                        ? constants.get(node.inputs().get(0)).tensor().longs() : null;
                if (dims == null) {
                    throw new OnnxImportException(node, "its shape input must be constant");
                }
                requireCount(node, dims);
                OnnxAttribute v = node.attributes().get("value");
                OnnxTensor value = v == null ? null : v.asTensor();
                int type = value == null ? OnnxTensor.FLOAT : value.dataType();
                double fill = value == null ? 0 : (value.isFloatingPoint() ? value.floats()[0] : value.longs()[0]);
                constants.put(out, new Filled(dims, type, fill));
                return true;
            }
            case "Reshape", "Flatten", "Identity", "Dropout", "Unsqueeze", "Squeeze" -> {
                Const data = node.inputs().isEmpty() ? null : constants.get(node.inputs().get(0));
                if (data == null || (node.opType().equals("Reshape")
                        && (node.inputs().size() < 2 || !constants.containsKey(node.inputs().get(1))))) {
                    return false;
                }
                constants.put(out, reshapedConstant(node, data, constants));
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    /** The same values under the dimensions a shape-only node gives them. */
    private static Const reshapedConstant(OnnxNode node, Const data, Map<String, Const> constants) {
        long[] d = data.dims();
        long count = requireCount(node, d);
        long[] dims = switch (node.opType()) {
            case "Reshape" -> {
                long[] target = constants.get(node.inputs().get(1)).tensor().longs();
                long known = 1;
                int infer = -1;
                for (int i = 0; i < target.length; i++) {
                    if (target[i] == 0 && i < d.length) {
                        target[i] = d[i];
                    }
                    if (target[i] == -1 && infer < 0) {
                        infer = i;
                    } else if (target[i] < 0) {
                        throw new OnnxImportException(node, "shape " + java.util.Arrays.toString(target)
                                + " has a negative entry or more than one -1");
                    } else {
                        try {
                            known = Math.multiplyExact(known, target[i]);
                        } catch (ArithmeticException e) {
                            throw new OnnxImportException(node, "shape " + java.util.Arrays.toString(target)
                                    + " has more elements than a long counts");
                        }
                    }
                }
                if (infer >= 0) {
                    if (known == 0 || count % known != 0) {
                        throw new OnnxImportException(node, "cannot infer the -1 of " + java.util.Arrays.toString(target)
                                + " for " + count + " elements");
                    }
                    target[infer] = count / known;
                }
                yield target;
            }
            case "Flatten" -> {
                long a = node.intAttr("axis", 1);
                if (a < -d.length || a > d.length) {
                    throw new OnnxImportException(node, "axis " + a + " is outside the rank " + d.length + " of its input");
                }
                int axis = (int) (a < 0 ? a + d.length : a);
                long outer = 1;
                for (int i = 0; i < axis; i++) {
                    outer *= d[i];
                }
                yield new long[] {outer, count / Math.max(outer, 1)};
            }
            case "Unsqueeze", "Squeeze" -> throw new OnnxImportException(node, "folding " + node.opType()
                    + " of a constant is not supported");
            default -> d;
        };
        if (requireCount(node, dims) != count) {
            throw new OnnxImportException(node, "its result " + java.util.Arrays.toString(dims) + " does not have the "
                    + count + " elements of its input " + java.util.Arrays.toString(d));
        }
        return switch (data) {
            case Given gv -> new Given(gv.value(), dims);
            case Filled f -> new Filled(dims, f.dataType(), f.value());
        };
    }

    /** The element count of dimensions read from a file; refuses negative ones and more than 2^31 - 1 elements. */
    private static long requireCount(OnnxNode node, long[] dims) {
        long n = 1;
        for (long d : dims) {
            if (d < 0 || (d > 0 && n > Integer.MAX_VALUE / d)) {
                throw new OnnxImportException(node, "dimensions " + java.util.Arrays.toString(dims)
                        + " are negative or hold more than " + Integer.MAX_VALUE + " elements");
            }
            n *= d;
        }
        return n;
    }

    private static OnnxOps.NodeContext context(OnnxNode node, OnnxModel model, Map<String, Const> constants,
            Map<String, String> layerOf, Graph.Builder b, int declaredBatch, int batch) {
        return new OnnxOps.NodeContext() {
            @Override
            public OnnxNode node() {
                return node;
            }

            @Override
            public boolean present(int i) {
                return i < node.inputs().size() && !node.inputs().get(i).isEmpty();
            }

            @Override
            public Shape shape(int i) {
                String t = name(i);
                Const c = constants.get(t);
                if (c != null) {
                    long[] d = c.dims();
                    if (d.length > Shape.MAX_RANK) {
                        throw new OnnxImportException(node, "constant '" + t + "' has rank " + d.length);
                    }
                    int[] dims = new int[Math.max(1, d.length)];
                    if (d.length == 0) {
                        dims[0] = 1;
                    }
                    for (int k = 0; k < d.length; k++) {
                        if (d[k] < 1 || d[k] > Integer.MAX_VALUE) {
                            throw new OnnxImportException(node, "constant '" + t + "' has dimension " + d[k] + " in "
                                    + java.util.Arrays.toString(d));
                        }
                        dims[k] = (int) d[k];
                    }
                    return Shape.of(dims);
                }
                String layer = layerOf.get(t);
                if (layer == null) {
                    throw new OnnxImportException(node, "input '" + t + "' is produced by no node before this one");
                }
                return b.node(layer).shape();
            }

            @Override
            public OnnxTensor constant(int i) {
                Const c = constants.get(name(i));
                if (c == null) {
                    throw new OnnxImportException(node, "input '" + name(i) + "' must be constant");
                }
                OnnxTensor t = c.tensor();
                if (node.opType().equals("Reshape") && i == 1 && batch != declaredBatch) {
                    long[] target = t.longs();
                    if (target.length > 0 && target[0] == declaredBatch && shape(0).dim(0) == batch) {
                        target[0] = batch;
                        ByteBuffer bb = ByteBuffer.allocate(target.length * 8).order(ByteOrder.LITTLE_ENDIAN);
                        for (long v : target) {
                            bb.putLong(v);
                        }
                        return new OnnxTensor(t.name(), OnnxTensor.INT64, t.dims(), bb.array());
                    }
                }
                return t;
            }

            @Override
            public long opset() {
                return model.opset();
            }

            private String name(int i) {
                if (!present(i)) {
                    throw new OnnxImportException(node, "input " + i + " is not given");
                }
                return node.inputs().get(i);
            }
        };
    }
}
