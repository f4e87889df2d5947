package org.convkit.memory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

import org.convkit.graph.Graph;
import org.convkit.graph.Layer;
import org.convkit.tensor.DType;

/**
 * When every tensor of a schedule must exist. A schedule is a list of steps; a tensor lives from
 * the step that writes it to the last step that reads it, so that it can be freed (eager mode)
 * or its bytes reused (planned mode) right after.
 *
 * <p><b>Inference</b>: step i runs layer i. The input lives from step 0 to its last reader;
 * each activation from its layer to its last reader (the model's output to the last step, when
 * it is downloaded); a workspace only during its layer.
 *
 * <p><b>Training step</b>: the steps of a {@link TrainingSchedule} (forward, loss, each gradient
 * term, accumulation and optimizer update, in the order the trainer runs them), every transient
 * tensor from the step that writes it (or first reads it, for the uploaded input and labels) to the
 * last step that reads it, and each step's workspace during that step. Parameters, optimizer
 * state and step scalars are persistent and not part of the schedule.
 */
public final class Liveness {
    private final List<String> steps;
    private final List<TensorLife> tensors;

    private Liveness(List<String> steps, List<TensorLife> tensors) {
        this.steps = List.copyOf(steps);
        this.tensors = List.copyOf(tensors);
    }

    /** Inference with the ops' own workspace figures. */
    public static Liveness inference(Graph model, DType dtype) {
        return inference(model, dtype, l -> l.op().workspaceBytes(l.inputShapes(), dtype));
    }

    /** Inference with workspace sizes from {@code workspace} (a device's kernels may differ from the op's figure). */
    public static Liveness inference(Graph model, DType dtype, ToLongFunction<Layer> workspace) {
        List<Layer> layers = model.layers();
        int last = layers.size() - 1;
        Map<String, Integer> lastRead = new HashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            for (String in : layers.get(i).inputs()) {
                lastRead.merge(in, i, Math::max);
            }
        }
        List<String> steps = new ArrayList<>();
        List<TensorLife> out = new ArrayList<>();
        out.add(new TensorLife(Graph.INPUT, TensorLife.Kind.INPUT, model.inputShape().byteSize(dtype), 0,
                lastRead.getOrDefault(Graph.INPUT, 0)));
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            steps.add(l.name());
            int end = i == last ? last : lastRead.getOrDefault(l.name(), i);
            out.add(new TensorLife(l.name(), TensorLife.Kind.ACTIVATION, l.outputShape().byteSize(dtype), i, end));
            long ws = workspace.applyAsLong(l);
            if (ws > 0) {
                out.add(new TensorLife(l.name() + "/workspace", TensorLife.Kind.WORKSPACE, ws, i, i));
            }
        }
        return new Liveness(steps, out);
    }

    /** One training step of {@code model} without checkpointing, with the ops' own workspace figures. */
    public static Liveness training(Graph model, DType dtype) {
        return training(TrainingSchedule.of(model, dtype, TrainingSchedule.Updates.of(Optimizer.MOMENTUM),
                Checkpointing.none()));
    }

    /** The lifetimes of a training schedule's transient tensors and workspaces, as described in the class comment. */
    public static Liveness training(TrainingSchedule schedule) {
        return of(schedule, schedule.steps());
    }

    /** The lifetimes of the tensors of an evaluation ({@link TrainingSchedule#evaluationSteps()}). */
    public static Liveness evaluation(TrainingSchedule schedule) {
        return of(schedule, schedule.evaluationSteps());
    }

    private static Liveness of(TrainingSchedule schedule, List<TrainingSchedule.Step> ss) {
        Map<String, int[]> span = new java.util.LinkedHashMap<>();
        for (String t : schedule.tensors().keySet()) {
            if (!schedule.tensors().get(t).role().persistent()) {
                span.put(t, null);
            }
        }
        List<String> steps = new ArrayList<>();
        List<TensorLife> workspaces = new ArrayList<>();
        for (int i = 0; i < ss.size(); i++) {
            TrainingSchedule.Step st = ss.get(i);
            steps.add(st.name());
            List<String> touched = new ArrayList<>(st.args());
            touched.add(st.output());
            for (String t : touched) {
                if (span.containsKey(t)) {
                    int[] s = span.get(t);
                    span.put(t, s == null ? new int[] {i, i} : new int[] {Math.min(s[0], i), Math.max(s[1], i)});
                }
            }
            if (st.workspaceBytes() > 0) {
                workspaces.add(new TensorLife(st.name() + "/workspace", TensorLife.Kind.WORKSPACE, st.workspaceBytes(), i, i));
            }
        }
        List<TensorLife> out = new ArrayList<>();
        span.forEach((t, s) -> {
            if (s != null) {
                out.add(new TensorLife(t, schedule.tensors().get(t).role().kind(), schedule.bytes(t), s[0], s[1]));
            }
        });
        out.addAll(workspaces);
        return new Liveness(steps, out);
    }

    /** Step names in order (layer names; for training also loss, backward steps, optimizer). */
    public List<String> steps() {
        return steps;
    }

    public List<TensorLife> tensors() {
        return tensors;
    }

    /** The tensors alive during {@code step}. */
    public List<TensorLife> aliveAt(int step) {
        return tensors.stream().filter(t -> t.aliveAt(step)).toList();
    }

    /** Bytes alive during {@code step}. */
    public long liveBytesAt(int step) {
        long sum = 0;
        for (TensorLife t : tensors) {
            if (t.aliveAt(step)) {
                sum += t.bytes();
            }
        }
        return sum;
    }

    /** The step with the most bytes alive (the first such step). */
    public int peakStep() {
        int best = 0;
        for (int s = 1; s < steps.size(); s++) {
            if (liveBytesAt(s) > liveBytesAt(best)) {
                best = s;
            }
        }
        return best;
    }

    /** The lower bound of any schedule's memory: the most bytes alive at one step. */
    public long peakBytes() {
        return liveBytesAt(peakStep());
    }

    /** Every tensor's bytes added up: what keeping everything would cost. */
    public long totalBytes() {
        return tensors.stream().mapToLong(TensorLife::bytes).sum();
    }

    /** A greedy-by-size arena plan of these tensors. */
    public ArenaPlan plan(long alignment) {
        return ArenaPlan.greedyBySize(tensors, alignment);
    }
}
