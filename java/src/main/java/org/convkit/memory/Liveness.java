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
 * <p><b>Training step</b> (forward, loss, backward, optimizer update), for L layers: steps 0..L-1
 * are the forward layers, step L the loss, step L+1+(L-1-i) the backward of layer i, step 2L+1
 * the optimizer. Forward tensors stay alive until the last backward step that reads them (the
 * backward of a layer reads its inputs and/or output, as its op declares); the gradient of an
 * activation lives from the backward of its first consumer (in backward order) to the backward of
 * the layer that produced it; the model input has no gradient; parameter gradients live from
 * their layer's backward to the optimizer step; backward workspaces are as large as forward ones.
 * Parameters and optimizer state are persistent and not part of the schedule.
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

    /** One training step, as described in the class comment. */
    public static Liveness training(Graph model, DType dtype) {
        List<Layer> layers = model.layers();
        int n = layers.size();
        int loss = n;
        int optimizer = 2 * n + 1;
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < n; i++) {
            index.put(layers.get(i).name(), i);
        }
        // Last step reading each forward tensor; first backward step producing each activation gradient.
        Map<String, Integer> lastRead = new HashMap<>();
        Map<String, Integer> gradientFirst = new HashMap<>();
        for (int j = 0; j < n; j++) {
            Layer l = layers.get(j);
            int back = backwardStep(n, j);
            for (String in : l.inputs()) {
                lastRead.merge(in, l.op().backwardReadsInputs() ? back : j, Math::max);
                gradientFirst.merge(in, back, Math::min);
            }
            if (l.op().backwardReadsOutput()) {
                lastRead.merge(l.name(), back, Math::max);
            }
        }
        String output = layers.get(n - 1).name();
        lastRead.merge(output, loss, Math::max);
        gradientFirst.put(output, loss);

        List<String> steps = new ArrayList<>();
        for (Layer l : layers) {
            steps.add(l.name());
        }
        steps.add("loss");
        for (int j = n - 1; j >= 0; j--) {
            steps.add("backward " + layers.get(j).name());
        }
        steps.add("optimizer");

        List<TensorLife> out = new ArrayList<>();
        out.add(new TensorLife(Graph.INPUT, TensorLife.Kind.INPUT, model.inputShape().byteSize(dtype), 0,
                lastRead.getOrDefault(Graph.INPUT, 0)));
        for (int i = 0; i < n; i++) {
            Layer l = layers.get(i);
            long bytes = l.outputShape().byteSize(dtype);
            int back = backwardStep(n, i);
            out.add(new TensorLife(l.name(), TensorLife.Kind.ACTIVATION, bytes, i, lastRead.getOrDefault(l.name(), i)));
            Integer first = gradientFirst.get(l.name());
            if (first != null) {
                out.add(new TensorLife("d(" + l.name() + ")", TensorLife.Kind.ACTIVATION_GRADIENT, bytes, first, back));
            }
            long params = l.op().parameterCount(l.inputShapes()) * dtype.byteSize();
            if (params > 0) {
                out.add(new TensorLife("d(" + l.name() + " parameters)", TensorLife.Kind.PARAMETER_GRADIENT, params, back,
                        optimizer));
            }
            long ws = l.op().workspaceBytes(l.inputShapes(), dtype);
            if (ws > 0) {
                out.add(new TensorLife(l.name() + "/workspace", TensorLife.Kind.WORKSPACE, ws, i, i));
                out.add(new TensorLife(l.name() + "/workspace(backward)", TensorLife.Kind.WORKSPACE, ws, back, back));
            }
        }
        return new Liveness(steps, out);
    }

    private static int backwardStep(int layers, int i) {
        return layers + 1 + (layers - 1 - i);
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
