package org.convkit.memory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import org.convkit.graph.Graph;
import org.convkit.graph.Layer;
import org.convkit.ops.BatchNorm;
import org.convkit.ops.BatchNormTraining;
import org.convkit.ops.Op;
import org.convkit.ops.Softmax;
import org.convkit.ops.SoftmaxCrossEntropy;
import org.convkit.ops.grad.Gradient;
import org.convkit.ops.grad.SoftmaxCrossEntropyGrad;
import org.convkit.ops.train.Accumulate;
import org.convkit.ops.train.AdamUpdate;
import org.convkit.ops.train.RunningAverage;
import org.convkit.ops.train.SgdUpdate;
import org.convkit.ops.train.StepScalars;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;

/**
 * One training step as the list of ops a device runs, in order, each naming the tensors it reads
 * and writes: the forward pass, the loss ({@link SoftmaxCrossEntropy} on the logits and the
 * labels), its gradient, then for each layer from the last to the first the terms of its backward
 * pass ({@link Op#gradients}), each optimizer update as soon as its parameter is no longer read,
 * and, where a tensor feeds several layers, the accumulation of its gradient. The trainer runs
 * exactly these steps and the memory planner derives every lifetime from them
 * ({@link Liveness#training(TrainingSchedule)}), so that the footprint planned is the footprint
 * measured, to the byte.
 *
 * <p>Order and lifetimes:
 * <ul>
 *   <li>A tensor lives from the step that writes it (the input and the labels: the step that first
 *       reads them, before which they are uploaded) to the last step that reads it; so a forward
 *       activation stays exactly until the last gradient term that reads it, an activation's
 *       gradient until the last term of the layer that produced it, a parameter's gradient until
 *       its update.</li>
 *   <li>Within a layer's backward pass, the parameter terms run before the input terms: a weight
 *       gradient is often the last reader of the layer's input, which is then freed before the
 *       input gradient (as large) is written.</li>
 *   <li>A parameter's update runs right after the layer's last term that reads the parameter
 *       (the input gradient reads the weights it had in the forward pass) or writes its gradient.</li>
 *   <li>The first term to produce a tensor's gradient writes it; later ones write a partial
 *       gradient that {@link Accumulate} adds in, after which the partial is freed. The model input
 *       and tensors that depend on no parameter get no gradient.</li>
 *   <li>A last layer that is a softmax over the classes is not run: the loss reads its input, the
 *       logits, and computes the softmax itself (more accurate, one tensor fewer).</li>
 *   <li>With {@link Checkpointing}, activations between checkpoints are freed after their last
 *       forward reader and recomputed during their segment's backward pass, from the segment's
 *       checkpoint, just before the first gradient term that reads them, as the tensors
 *       {@code name (recomputed)}.</li>
 *   <li>A {@link BatchNorm} layer runs in its training form ({@link BatchNorm#training()}: the
 *       batch's statistics, gradients through them); right after its forward step its batch
 *       statistics are computed and its running mean and variance updated ({@link RunningAverage},
 *       momentum {@value #BATCH_NORM_MOMENTUM}, the variance made unbiased), once per step
 *       (recomputation does not update them again).</li>
 *   <li>Each step's workspace lives during that step only.</li>
 * </ul>
 * {@link #evaluationSteps()} are the forward pass in the model's own (inference) form and the
 * loss: what evaluating the parameters on a batch runs, each tensor one of the training step's
 * with the same or a shorter life.
 * Parameters, the optimizer's state and the {@link StepScalars} are persistent: they are not part
 * of the schedule's transient memory.
 *
 * <p>A layer whose op declares no gradient terms is given modelled terms (each reads the output
 * gradient and, as the op declares, its inputs, its output and its parameters): enough to plan,
 * not to run; {@link #modelledLayers()} names such layers and the trainer refuses them.
 */
public final class TrainingSchedule {
    /** The name of the labels tensor. */
    public static final String LABELS = "labels";
    /** The name of the loss output (per-position losses and right/wrong flags). */
    public static final String LOSS = "loss";
    /** The name of the step scalars buffer the updates read. */
    public static final String SCALARS = "optimizer/scalars";
    /** The momentum of batch normalization's running statistics (PyTorch's default). */
    public static final float BATCH_NORM_MOMENTUM = 0.1f;

    /** What a step does. */
    public enum Action {
        /** A layer of the forward pass. */
        FORWARD,
        /** A layer run again during the backward pass (checkpointing). */
        RECOMPUTE,
        /** The loss on the logits and the labels. */
        LOSS,
        /** The loss's gradient with respect to the logits. */
        LOSS_GRADIENT,
        /** One term of a layer's backward pass. */
        GRADIENT,
        /** A partial gradient added into a tensor's gradient. */
        ACCUMULATE,
        /** A batch normalization's batch statistics, after its forward step. */
        STATISTICS,
        /** The update of a batch normalization's running mean or variance from its batch statistics. */
        RUNNING_AVERAGE,
        /** The optimizer's update of one parameter. */
        UPDATE
    }

    /** What a tensor is. */
    public enum Role {
        /** The model's input batch (transient, uploaded). */
        INPUT(TensorLife.Kind.INPUT),
        /** The class labels (transient, uploaded). */
        LABELS(TensorLife.Kind.LABELS),
        /** A layer's output (transient). */
        ACTIVATION(TensorLife.Kind.ACTIVATION),
        /** A layer's output recomputed for the backward pass (transient). */
        RECOMPUTED(TensorLife.Kind.RECOMPUTED),
        /** The loss output (transient, downloaded). */
        LOSS(TensorLife.Kind.LOSS),
        /** A batch normalization's batch statistics (transient). */
        STATISTICS(TensorLife.Kind.STATISTICS),
        /** The gradient of an activation, or a partial one (transient). */
        ACTIVATION_GRADIENT(TensorLife.Kind.ACTIVATION_GRADIENT),
        /** The gradient of a parameter (transient). */
        PARAMETER_GRADIENT(TensorLife.Kind.PARAMETER_GRADIENT),
        /** A learned parameter (persistent). */
        PARAMETER(null),
        /** Optimizer state of one parameter (persistent). */
        OPTIMIZER_STATE(null),
        /** The step scalars (persistent). */
        STEP_SCALARS(null);

        private final TensorLife.Kind kind;

        Role(TensorLife.Kind kind) {
            this.kind = kind;
        }

        /** Whether the tensor lives across steps (not part of the schedule's transient memory). */
        public boolean persistent() {
            return kind == null;
        }

        /** The kind of a transient tensor's life; null for persistent ones. */
        public TensorLife.Kind kind() {
            return kind;
        }
    }

    /**
     * A tensor of the schedule.
     *
     * @param name unique, e.g. {@code conv1}, {@code d(conv1)}, {@code conv2/weight}
     * @param role what it is
     * @param shape its shape
     * @param layer the layer it belongs to (for parameters and their state), else null
     * @param parameter for parameters and their state, which of the layer's parameters (in
     *     {@link Op#parameterShapes} order), else -1
     */
    public record Tensor(String name, Role role, Shape shape, String layer, int parameter) {
    }

    /**
     * One step.
     *
     * @param action what it does
     * @param name unique, e.g. {@code conv2}, {@code backward conv2: d(conv1)}, {@code update conv2/weight}
     * @param layer the layer it belongs to, or null (loss)
     * @param op the op it runs
     * @param inputShapes the op's activation-input shapes (as prepared on a device)
     * @param args the tensors it reads, in the op's argument order (inputs, then the op's own parameters)
     * @param output the tensor it writes (an update writes its parameter and its state in place)
     * @param workspaceBytes scratch memory during this step
     * @param flops the op's FLOPs
     */
    public record Step(Action action, String name, String layer, Op op, List<Shape> inputShapes, List<String> args,
            String output, long workspaceBytes, long flops) {
        public Step {
            inputShapes = List.copyOf(inputShapes);
            args = List.copyOf(args);
        }
    }

    /** Workspace bytes of an op on these input shapes (a device's kernel may need another figure than the op's). */
    @FunctionalInterface
    public interface Workspace {
        long bytes(Op op, List<Shape> inputs);
    }

    /**
     * The optimizer of a schedule, as the update ops it runs.
     *
     * @param kind which optimizer (its state copies)
     * @param sgd the SGD update (plain or momentum), or null for Adam
     * @param adam the Adam update, or null for SGD
     */
    public record Updates(Optimizer kind, SgdUpdate sgd, AdamUpdate adam) {
        /** The usual settings: momentum 0.9; Adam's defaults. */
        public static Updates of(Optimizer kind) {
            return switch (kind) {
                case SGD -> new Updates(kind, SgdUpdate.plain(), null);
                case MOMENTUM -> new Updates(kind, SgdUpdate.withMomentum(0.9f), null);
                case ADAM -> new Updates(kind, null, AdamUpdate.defaults());
            };
        }

        public Updates {
            Objects.requireNonNull(kind, "optimizer");
            if ((kind == Optimizer.ADAM) != (adam != null) || (kind == Optimizer.ADAM) == (sgd != null)
                    || (sgd != null && sgd.hasVelocity() != (kind == Optimizer.MOMENTUM))) {
                throw new IllegalArgumentException("updates: " + kind + " does not go with " + (sgd != null ? sgd : adam));
            }
        }

        /** The update op. */
        Op op() {
            return adam != null ? adam : sgd;
        }

        /** Names of the state tensors of a parameter, in the update op's argument order. */
        List<String> state(String parameter) {
            return switch (kind) {
                case SGD -> List.of();
                case MOMENTUM -> List.of(parameter + "/velocity");
                case ADAM -> List.of(parameter + "/m", parameter + "/v");
            };
        }
    }

    private final Graph graph;
    private final List<Layer> layers;
    private final DType dtype;
    private final Updates updates;
    private final Checkpointing checkpointing;
    private final List<Integer> cuts;
    private final List<Step> steps = new ArrayList<>();
    private final List<Step> evaluation = new ArrayList<>();
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final Set<String> modelled = new java.util.LinkedHashSet<>();
    private final Workspace workspace;

    private TrainingSchedule(Graph graph, DType dtype, Updates updates, Checkpointing checkpointing, Workspace workspace) {
        this.graph = graph;
        this.dtype = dtype;
        this.updates = updates;
        this.checkpointing = checkpointing;
        this.workspace = workspace;
        this.layers = trainedLayers(graph);
        this.cuts = checkpointing.cuts(graph.name(), layers);
    }

    /** The schedule of {@code graph} with the ops' own workspace figures. */
    public static TrainingSchedule of(Graph graph, DType dtype, Updates updates, Checkpointing checkpointing) {
        return of(graph, dtype, updates, checkpointing, (op, in) -> op.workspaceBytes(in, dtype));
    }

    /** The schedule of {@code graph} with workspace sizes from {@code workspace}. */
    public static TrainingSchedule of(Graph graph, DType dtype, Updates updates, Checkpointing checkpointing,
            Workspace workspace) {
        TrainingSchedule s = new TrainingSchedule(Objects.requireNonNull(graph, "graph"), dtype, updates, checkpointing,
                workspace);
        s.build();
        return s;
    }

    /**
     * The layers a training step runs: all but a last softmax over the classes (axis 1), whose
     * input the loss reads as the logits.
     */
    public static List<Layer> trainedLayers(Graph graph) {
        List<Layer> ls = graph.layers();
        Layer last = ls.get(ls.size() - 1);
        if (ls.size() > 1 && last.op() instanceof Softmax s && last.outputShape().rank() >= 2
                && s.geometry(last.outputShape()).axis() == 1) {
            return ls.subList(0, ls.size() - 1);
        }
        return ls;
    }

    private void build() {
        for (String reserved : List.of(LABELS, LOSS)) {
            if (layers.stream().anyMatch(l -> l.name().equals(reserved))) {
                throw new IllegalArgumentException("training: layer name '" + reserved + "' of model '" + graph.name()
                        + "' is reserved for the loss");
            }
        }
        Layer logits = layers.get(layers.size() - 1);
        Shape labels = SoftmaxCrossEntropy.labelsShape(logits.outputShape());
        tensor(Graph.INPUT, Role.INPUT, graph.inputShape(), null);
        tensor(LABELS, Role.LABELS, labels, null);
        tensor(SCALARS, Role.STEP_SCALARS, StepScalars.SHAPE, null);
        Map<String, Boolean> needsGradient = new HashMap<>();
        needsGradient.put(Graph.INPUT, false);
        for (Layer l : layers) {
            boolean needs = l.parameterCount() > 0 || l.inputs().stream().anyMatch(needsGradient::get);
            needsGradient.put(l.name(), needs);
            List<Shape> ps = l.op().parameterShapes(l.inputShapes());
            List<String> names = l.op().parameterNames(l.inputShapes());
            for (int p = 0; p < ps.size(); p++) {
                String param = parameter(l, names, p);
                tensor(param, Role.PARAMETER, ps.get(p), l.name(), p);
                for (String s : updates.state(param)) {
                    tensor(s, Role.OPTIMIZER_STATE, ps.get(p), l.name(), p);
                }
            }
        }

        // Forward pass.
        Map<String, String> current = new HashMap<>();
        current.put(Graph.INPUT, Graph.INPUT);
        for (Layer l : layers) {
            forward(Action.FORWARD, l, l.name(), Role.ACTIVATION, current);
        }

        // The loss and its gradient, where the backward pass starts.
        List<Shape> lossIn = List.of(logits.outputShape(), labels);
        step(Action.LOSS, LOSS, null, SoftmaxCrossEntropy.INSTANCE, lossIn, List.of(logits.name(), LABELS),
                tensor(LOSS, Role.LOSS, SoftmaxCrossEntropy.INSTANCE.outputShape(lossIn), null));
        Map<String, String> gradientOf = new HashMap<>();
        String dLogits = tensor(gradient(logits.name()), Role.ACTIVATION_GRADIENT, logits.outputShape(), null);
        step(Action.LOSS_GRADIENT, "backward " + LOSS, null, SoftmaxCrossEntropyGrad.INSTANCE, lossIn,
                List.of(logits.name(), LABELS), dLogits);
        gradientOf.put(logits.name(), dLogits);

        // The backward pass, segment by segment from the last.
        List<Integer> bounds = new ArrayList<>();
        bounds.add(0);
        bounds.addAll(cuts);
        bounds.add(layers.size());
        for (int s = bounds.size() - 2; s >= 0; s--) {
            int a = bounds.get(s);
            int b = bounds.get(s + 1);
            // Activations inside a segment before the last are recomputed; its last layer's output is the next checkpoint.
            Set<String> interior = new HashSet<>();
            if (b < layers.size()) {
                for (int i = a; i < b - 1; i++) {
                    interior.add(layers.get(i).name());
                }
            }
            for (int j = b - 1; j >= a; j--) {
                Layer l = layers.get(j);
                if (gradientOf.containsKey(l.name())) {
                    for (Gradient g : terms(l, needsGradient)) {
                        for (Gradient.Operand o : g.operands()) {
                            switch (o.kind()) {
                                case INPUT -> recompute(l.inputs().get(o.index()), interior, current);
                                case OUTPUT -> recompute(l.name(), interior, current);
                                default -> {
                                }
                            }
                        }
                    }
                }
                backward(l, needsGradient, current, gradientOf);
            }
        }
        evaluation(logits, labels);
    }

    /**
     * Recomputes {@code tensor} if it is a segment's interior activation not recomputed yet, its
     * interior inputs first: just before the first gradient term that reads it, so that it lives
     * no longer than the backward pass needs it.
     */
    private void recompute(String tensor, Set<String> interior, Map<String, String> current) {
        if (!interior.remove(tensor)) {
            return;
        }
        Layer l = graph.layer(tensor);
        for (String in : l.inputs()) {
            recompute(in, interior, current);
        }
        forward(Action.RECOMPUTE, l, tensor + " (recomputed)", Role.RECOMPUTED, current);
    }

    private static String parameter(Layer l, List<String> names, int p) {
        return l.name() + "/" + names.get(p);
    }

    private static String gradient(String tensor) {
        return "d(" + tensor + ")";
    }

    private String tensor(String name, Role role, Shape shape, String layer) {
        return tensor(name, role, shape, layer, -1);
    }

    private String tensor(String name, Role role, Shape shape, String layer, int parameter) {
        if (tensors.putIfAbsent(name, new Tensor(name, role, shape, layer, parameter)) != null) {
            throw new IllegalArgumentException("training: tensor name '" + name + "' of model '" + graph.name()
                    + "' is used twice");
        }
        return name;
    }

    private void step(Action action, String name, String layer, Op op, List<Shape> inputShapes, List<String> args,
            String output) {
        step(steps, action, name, layer, op, inputShapes, args, output);
    }

    private void step(List<Step> to, Action action, String name, String layer, Op op, List<Shape> inputShapes,
            List<String> args, String output) {
        to.add(new Step(action, name, layer, op, inputShapes, args, output, workspace.bytes(op, inputShapes),
                op.flops(inputShapes)));
    }

    /** The op a layer runs in a training step: a batch normalization's training form, else the layer's own. */
    private static Op trainingOp(Layer l) {
        return l.op() instanceof BatchNorm bn ? bn.training() : l.op();
    }

    private void forward(Action action, Layer l, String output, Role role, Map<String, String> current) {
        List<String> args = new ArrayList<>();
        for (String in : l.inputs()) {
            args.add(current.get(in));
        }
        List<String> names = l.op().parameterNames(l.inputShapes());
        for (int p = 0; p < names.size(); p++) {
            args.add(parameter(l, names, p));
        }
        Op op = trainingOp(l);
        step(action, action == Action.FORWARD ? l.name() : "recompute " + l.name(), l.name(), op, l.inputShapes(), args,
                tensor(output, role, l.outputShape(), null));
        current.put(l.name(), output);
        if (action == Action.FORWARD && op instanceof BatchNormTraining bn) {
            Shape in = l.inputShapes().get(0);
            List<Shape> statsIn = List.of(bn.statistics().outputShape(List.of(in)));
            String stats = tensor(l.name() + "/statistics", Role.STATISTICS, statsIn.get(0), l.name());
            step(Action.STATISTICS, "statistics " + l.name(), l.name(), bn.statistics(), List.of(in),
                    List.of(args.get(0)), stats);
            long count = in.elementCount() / in.dim(1);
            step(Action.RUNNING_AVERAGE, "running " + parameter(l, names, 2), l.name(),
                    RunningAverage.mean(BATCH_NORM_MOMENTUM), statsIn, List.of(stats), parameter(l, names, 2));
            step(Action.RUNNING_AVERAGE, "running " + parameter(l, names, 3), l.name(),
                    RunningAverage.variance(BATCH_NORM_MOMENTUM, count), statsIn, List.of(stats), parameter(l, names, 3));
        }
    }

    /** The forward pass in the model's own form, then the loss: what an evaluation runs. */
    private void evaluation(Layer logits, Shape labels) {
        for (Layer l : layers) {
            List<String> args = new ArrayList<>(l.inputs());
            List<String> names = l.op().parameterNames(l.inputShapes());
            for (int p = 0; p < names.size(); p++) {
                args.add(parameter(l, names, p));
            }
            step(evaluation, Action.FORWARD, l.name(), l.name(), l.op(), l.inputShapes(), args, l.name());
        }
        List<Shape> lossIn = List.of(logits.outputShape(), labels);
        step(evaluation, Action.LOSS, LOSS, null, SoftmaxCrossEntropy.INSTANCE, lossIn, List.of(logits.name(), LABELS),
                LOSS);
    }

    /** The layer's gradient terms that are needed: every parameter's, and those of inputs that need a gradient. */
    private List<Gradient> terms(Layer l, Map<String, Boolean> needsGradient) {
        List<Gradient> declared = trainingOp(l).gradients(l.inputShapes());
        if (declared.isEmpty() && needsGradient.get(l.name())) {
            modelled.add(l.name());
            declared = ModelledGradient.terms(l);
        }
        List<Gradient> params = new ArrayList<>();
        List<Gradient> inputs = new ArrayList<>();
        for (Gradient g : declared) {
            if (g.wrt() == Gradient.Wrt.PARAMETER) {
                params.add(g);
            } else if (needsGradient.get(l.inputs().get(g.index()))) {
                inputs.add(g);
            }
        }
        params.addAll(inputs);
        return params;
    }

    private void backward(Layer l, Map<String, Boolean> needsGradient, Map<String, String> current,
            Map<String, String> gradientOf) {
        String dy = gradientOf.get(l.name());
        if (dy == null) {
            // No gradient reaches this layer: nothing after it that the loss depends on reads it.
            return;
        }
        List<Gradient> terms = terms(l, needsGradient);
        List<String> names = l.op().parameterNames(l.inputShapes());
        List<Shape> paramShapes = l.op().parameterShapes(l.inputShapes());
        // After which term each parameter is last read or written: its update follows that term.
        Map<Integer, Integer> lastUse = new HashMap<>();
        for (int t = 0; t < terms.size(); t++) {
            Gradient g = terms.get(t);
            if (g.wrt() == Gradient.Wrt.PARAMETER) {
                lastUse.put(g.index(), t);
            }
            for (Gradient.Operand o : g.operands()) {
                if (o.kind() == Gradient.Operand.Kind.PARAMETER) {
                    lastUse.merge(o.index(), t, Math::max);
                }
            }
        }
        Set<Integer> computed = new HashSet<>();
        for (int t = 0; t < terms.size(); t++) {
            Gradient g = terms.get(t);
            List<String> args = new ArrayList<>();
            List<Shape> shapes = new ArrayList<>();
            for (Gradient.Operand o : g.operands()) {
                switch (o.kind()) {
                    case OUTPUT_GRADIENT -> {
                        args.add(dy);
                        shapes.add(l.outputShape());
                    }
                    case INPUT -> {
                        args.add(current.get(l.inputs().get(o.index())));
                        shapes.add(l.inputShapes().get(o.index()));
                    }
                    case PARAMETER -> {
                        args.add(parameter(l, names, o.index()));
                        shapes.add(paramShapes.get(o.index()));
                    }
                    case OUTPUT -> {
                        args.add(current.get(l.name()));
                        shapes.add(l.outputShape());
                    }
                }
            }
            Shape out = g.op().outputShape(shapes);
            if (g.wrt() == Gradient.Wrt.PARAMETER) {
                String param = parameter(l, names, g.index());
                requireShape(l, g, out, paramShapes.get(g.index()));
                step(Action.GRADIENT, "backward " + l.name() + ": " + gradient(param), l.name(), g.op(), shapes, args,
                        tensor(gradient(param), Role.PARAMETER_GRADIENT, out, l.name()));
                computed.add(g.index());
            } else {
                String x = l.inputs().get(g.index());
                requireShape(l, g, out, l.inputShapes().get(g.index()));
                String dx = gradientOf.get(x);
                if (dx == null) {
                    dx = tensor(gradient(x), Role.ACTIVATION_GRADIENT, out, null);
                    gradientOf.put(x, dx);
                    step(Action.GRADIENT, "backward " + l.name() + ": " + dx, l.name(), g.op(), shapes, args, dx);
                } else {
                    String partial = tensor(dx + " from " + l.name() + " input " + g.index(), Role.ACTIVATION_GRADIENT,
                            out, null);
                    step(Action.GRADIENT, "backward " + l.name() + ": " + partial, l.name(), g.op(), shapes, args, partial);
                    step(Action.ACCUMULATE, "accumulate " + partial, l.name(), Accumulate.INSTANCE, List.of(out),
                            List.of(partial), dx);
                }
            }
            for (Map.Entry<Integer, Integer> e : lastUse.entrySet()) {
                if (e.getValue() == t && computed.contains(e.getKey())) {
                    update(l, parameter(l, names, e.getKey()), paramShapes.get(e.getKey()));
                }
            }
        }
    }

    private void requireShape(Layer l, Gradient g, Shape out, Shape expected) {
        if (!out.equals(expected)) {
            throw new IllegalStateException("training: gradient term " + g.op().name() + " of layer '" + l.name()
                    + "' gives " + out + " for " + g.wrt().name().toLowerCase(java.util.Locale.ROOT) + " " + g.index()
                    + " of shape " + expected);
        }
    }

    private void update(Layer l, String param, Shape shape) {
        List<String> args = new ArrayList<>();
        args.add(gradient(param));
        args.addAll(updates.state(param));
        args.add(SCALARS);
        List<Shape> shapes = new ArrayList<>();
        for (int i = 0; i < args.size() - 1; i++) {
            shapes.add(shape);
        }
        shapes.add(StepScalars.SHAPE);
        step(Action.UPDATE, "update " + param, l.name(), updates.op(), shapes, args, param);
    }

    public Graph graph() {
        return graph;
    }

    public DType dtype() {
        return dtype;
    }

    public Updates updates() {
        return updates;
    }

    public Checkpointing checkpointing() {
        return checkpointing;
    }

    /** The layers the step runs (see {@link #trainedLayers}). */
    public List<Layer> layers() {
        return layers;
    }

    /** Where the layers are cut into checkpointed segments (empty without checkpointing). */
    public List<Integer> cuts() {
        return cuts;
    }

    /** The checkpoints: the outputs of the layers before each cut. */
    public List<String> checkpoints() {
        return cuts.stream().map(k -> layers.get(k - 1).name()).toList();
    }

    /** The logits: the last trained layer's output, which the loss reads. */
    public String logits() {
        return layers.get(layers.size() - 1).name();
    }

    /** The steps in order. */
    public List<Step> steps() {
        return List.copyOf(steps);
    }

    /**
     * The steps of an evaluation: the forward pass in the model's own form (batch normalization
     * with its running statistics) and the loss.
     */
    public List<Step> evaluationSteps() {
        return List.copyOf(evaluation);
    }

    /** Every tensor, transient and persistent, by name. */
    public Map<String, Tensor> tensors() {
        return java.util.Collections.unmodifiableMap(tensors);
    }

    /** Layers whose backward pass is modelled, not declared by their op: plannable, not trainable. */
    public Set<String> modelledLayers() {
        return java.util.Collections.unmodifiableSet(modelled);
    }

    /** Bytes of a tensor. */
    public long bytes(String tensor) {
        return tensors.get(tensor).shape().byteSize(dtype);
    }

    /** Bytes of the tensors of these roles. */
    public long bytes(Role role) {
        return tensors.values().stream().filter(t -> t.role() == role).mapToLong(t -> t.shape().byteSize(dtype)).sum();
    }

    /** Bytes kept across steps: parameters, optimizer state and step scalars. */
    public long persistentBytes() {
        return bytes(Role.PARAMETER) + bytes(Role.OPTIMIZER_STATE) + bytes(Role.STEP_SCALARS);
    }

    /** FLOPs of the steps of these actions. */
    public long flops(Action... actions) {
        Set<Action> set = Set.of(actions);
        return steps.stream().filter(s -> set.contains(s.action())).mapToLong(Step::flops).sum();
    }

    /** FLOPs of the whole step. */
    public long flops() {
        return steps.stream().mapToLong(Step::flops).sum();
    }
}
