package org.convkit.memory;

import java.util.ArrayList;
import java.util.List;

import org.convkit.graph.Graph;
import org.convkit.graph.Layer;
import org.convkit.tensor.DType;

/**
 * The device memory a graph needs, computed from liveness: inference (planned arena, lower
 * bound, keep-everything) and one training step (the textbook's bare minimum, the lower bound of
 * the {@link TrainingSchedule} the trainer runs, and its planned arena), all including the
 * parameters; training adds the optimizer's state and step scalars.
 *
 * @param graph what was planned (its batch is the input's dimension 0)
 * @param dtype element type of every tensor
 * @param optimizer the optimizer whose state training keeps
 * @param alignment arena alignment used for the planned figures
 * @param parameterBytes the parameters
 * @param inference the inference schedule
 * @param inferencePlan its arena
 * @param schedule the training step's schedule
 * @param training its lifetimes
 * @param trainingPlan its arena
 */
public record Footprint(Graph graph, DType dtype, Optimizer optimizer, long alignment, long parameterBytes,
        Liveness inference, ArenaPlan inferencePlan, TrainingSchedule schedule, Liveness training,
        ArenaPlan trainingPlan) {

    /** Plans inference and a training step (without checkpointing) of {@code graph}. */
    public static Footprint of(Graph graph, DType dtype, Optimizer optimizer, long alignment) {
        return of(graph, dtype, optimizer, alignment, Checkpointing.none());
    }

    /** Plans inference and a training step of {@code graph} with this checkpointing. */
    public static Footprint of(Graph graph, DType dtype, Optimizer optimizer, long alignment, Checkpointing checkpointing) {
        return of(TrainingSchedule.of(graph, dtype, TrainingSchedule.Updates.of(optimizer), checkpointing), alignment);
    }

    /** Plans inference of the schedule's graph (the ops' workspace figures) and the schedule itself. */
    public static Footprint of(TrainingSchedule schedule, long alignment) {
        Graph graph = schedule.graph();
        DType dtype = schedule.dtype();
        Liveness inf = Liveness.inference(graph, dtype);
        Liveness tr = Liveness.training(schedule);
        return new Footprint(graph, dtype, schedule.updates().kind(), alignment, graph.parameterBytes(dtype), inf,
                inf.plan(alignment), schedule, tr, tr.plan(alignment));
    }

    public int batch() {
        return graph.inputShape().dim(0);
    }

    /** Parameters plus the inference arena: what a planned inference session allocates. */
    public long inferencePlanned() {
        return parameterBytes + inferencePlan.arenaBytes();
    }

    /** Parameters plus the most bytes alive at one step: what an eager session peaks at. */
    public long inferenceLowerBound() {
        return parameterBytes + inference.peakBytes();
    }

    /** Parameters plus every tensor kept to the end. */
    public long inferenceNaive() {
        return parameterBytes + inference.totalBytes();
    }

    /** The textbook's bare minimum: parameters, the input batch and every layer's output. */
    public long trainingTextbook() {
        long forward = graph.inputShape().byteSize(dtype);
        for (Layer l : graph.layers()) {
            forward += l.outputShape().byteSize(dtype);
        }
        return parameterBytes + forward;
    }

    /** Parameter-sized optimizer state. */
    public long optimizerStateBytes() {
        return schedule.bytes(TrainingSchedule.Role.OPTIMIZER_STATE);
    }

    /** The step scalars the updates read (learning rate, bias corrections). */
    public long stepScalarsBytes() {
        return schedule.bytes(TrainingSchedule.Role.STEP_SCALARS);
    }

    /** Parameters, optimizer state, step scalars and the most bytes alive at one training step: an eager trainer's peak. */
    public long trainingLowerBound() {
        return schedule.persistentBytes() + training.peakBytes();
    }

    /** Parameters, optimizer state, step scalars and the training arena: a planned trainer's allocation. */
    public long trainingPlanned() {
        return schedule.persistentBytes() + trainingPlan.arenaBytes();
    }

    /** FLOPs of one training step (forward, loss, backward, updates and any recomputation). */
    public long trainingFlops() {
        return schedule.flops();
    }

    /** FLOPs spent recomputing activations (checkpointing); 0 without. */
    public long recomputeFlops() {
        return schedule.flops(TrainingSchedule.Action.RECOMPUTE);
    }

    /** One line of the difference between the textbook figure and the plan. */
    public record Line(String what, long bytes) {
    }

    /**
     * From {@link #trainingTextbook()} to {@link #trainingPlanned()}, line by line: forward
     * tensors already freed at the busiest step (and any the step never makes), the other
     * tensors alive there by kind, the optimizer state, the step scalars and the arena's alignment
     * padding. Lines of 0 bytes are left out, except the first and the last; the lines add up
     * exactly.
     */
    public List<Line> trainingDifference() {
        int peak = training.peakStep();
        String at = "at the busiest step (" + training.steps().get(peak) + ")";
        java.util.Set<String> made = new java.util.HashSet<>();
        for (TensorLife t : training.tensors()) {
            made.add(t.name());
        }
        List<String> freed = new ArrayList<>();
        long freedBytes = 0;
        List<String> never = new ArrayList<>();
        long neverBytes = 0;
        List<String> forward = new ArrayList<>();
        forward.add(Graph.INPUT);
        graph.layers().forEach(l -> forward.add(l.name()));
        for (String name : forward) {
            long bytes = graph.shapeOf(name).byteSize(dtype);
            if (!made.contains(name)) {
                never.add(name);
                neverBytes += bytes;
            } else if (training.tensors().stream().noneMatch(t -> t.name().equals(name) && t.aliveAt(peak))) {
                freed.add(name);
                freedBytes += bytes;
            }
        }
        List<Line> lines = new ArrayList<>();
        lines.add(new Line("forward tensors already freed " + at + ": " + (freed.isEmpty() ? "none" : String.join(", ", freed)),
                -freedBytes));
        if (neverBytes > 0) {
            lines.add(new Line("forward tensors a training step never makes (the loss reads the logits): "
                    + String.join(", ", never), -neverBytes));
        }
        record Kind(TensorLife.Kind kind, String what, boolean named) {
        }
        for (Kind k : List.of(new Kind(TensorLife.Kind.LABELS, "labels", false),
                new Kind(TensorLife.Kind.LOSS, "loss output (losses, right/wrong flags)", false),
                new Kind(TensorLife.Kind.RECOMPUTED, "recomputed activations", true),
                new Kind(TensorLife.Kind.ACTIVATION_GRADIENT, "activation gradients", true),
                new Kind(TensorLife.Kind.PARAMETER_GRADIENT, "parameter gradients", true),
                new Kind(TensorLife.Kind.WORKSPACE, "workspaces", true))) {
            List<String> names = new ArrayList<>();
            long bytes = 0;
            for (TensorLife t : training.tensors()) {
                if (t.kind() == k.kind() && t.aliveAt(peak)) {
                    names.add(t.name());
                    bytes += t.bytes();
                }
            }
            if (bytes > 0) {
                lines.add(new Line(k.what() + " alive " + at + (k.named() ? ": " + String.join(", ", names) : ""), bytes));
            }
        }
        if (optimizerStateBytes() > 0) {
            lines.add(new Line("optimizer state (" + optimizer.id() + ", " + optimizer.stateCopies() + " x parameters)",
                    optimizerStateBytes()));
        }
        lines.add(new Line("optimizer step scalars (learning rate, bias corrections)", stepScalarsBytes()));
        lines.add(new Line("arena alignment and fragmentation (" + alignment + "-byte offsets)",
                trainingPlan.arenaBytes() - training.peakBytes()));
        return lines;
    }

    /** Each layer's output bytes, in order. */
    public List<Line> activations() {
        List<Line> out = new ArrayList<>();
        out.add(new Line(Graph.INPUT + " " + graph.inputShape(), graph.inputShape().byteSize(dtype)));
        for (Layer l : graph.layers()) {
            out.add(new Line(l.name() + " " + l.outputShape(), l.outputShape().byteSize(dtype)));
        }
        return out;
    }
}
