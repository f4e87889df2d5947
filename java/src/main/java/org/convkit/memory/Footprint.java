package org.convkit.memory;

import java.util.ArrayList;
import java.util.List;

import org.convkit.graph.Graph;
import org.convkit.graph.Layer;
import org.convkit.tensor.DType;

/**
 * The device memory a graph needs, computed from liveness: inference (planned arena, lower
 * bound, keep-everything) and one training step (the textbook's bare minimum, the lower bound of
 * the schedule in {@link Liveness}, and the planned arena), all including the parameters.
 *
 * @param graph what was planned (its batch is the input's dimension 0)
 * @param dtype element type of every tensor
 * @param optimizer the optimizer whose state training keeps
 * @param alignment arena alignment used for the planned figures
 * @param parameterBytes the parameters
 * @param inference the inference schedule
 * @param inferencePlan its arena
 * @param training the training-step schedule
 * @param trainingPlan its arena
 */
public record Footprint(Graph graph, DType dtype, Optimizer optimizer, long alignment, long parameterBytes,
        Liveness inference, ArenaPlan inferencePlan, Liveness training, ArenaPlan trainingPlan) {

    /** Plans inference and training of {@code graph}. */
    public static Footprint of(Graph graph, DType dtype, Optimizer optimizer, long alignment) {
        Liveness inf = Liveness.inference(graph, dtype);
        Liveness tr = Liveness.training(graph, dtype);
        return new Footprint(graph, dtype, optimizer, alignment, graph.parameterBytes(dtype), inf, inf.plan(alignment),
                tr, tr.plan(alignment));
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

    /** The textbook's bare minimum: parameters, the input batch and every forward activation. */
    public long trainingTextbook() {
        long forward = 0;
        for (TensorLife t : training.tensors()) {
            if (t.kind() == TensorLife.Kind.INPUT || t.kind() == TensorLife.Kind.ACTIVATION) {
                forward += t.bytes();
            }
        }
        return parameterBytes + forward;
    }

    /** Parameter-sized optimizer state. */
    public long optimizerStateBytes() {
        return parameterBytes * optimizer.stateCopies();
    }

    /** Parameters, optimizer state and the most bytes alive at one training step. */
    public long trainingLowerBound() {
        return parameterBytes + optimizerStateBytes() + training.peakBytes();
    }

    /** Parameters, optimizer state and the training arena. */
    public long trainingPlanned() {
        return parameterBytes + optimizerStateBytes() + trainingPlan.arenaBytes();
    }

    /** One line of the difference between the textbook figure and the plan. */
    public record Line(String what, long bytes) {
    }

    /**
     * From {@link #trainingTextbook()} to {@link #trainingPlanned()}, line by line: forward
     * tensors already freed at the busiest step, the gradients and workspaces alive there, the
     * optimizer state and the arena's alignment padding. The lines add up exactly.
     */
    public List<Line> trainingDifference() {
        int peak = training.peakStep();
        List<Line> lines = new ArrayList<>();
        List<String> freed = new ArrayList<>();
        long freedBytes = 0;
        long activationGrads = 0;
        long paramGrads = 0;
        long workspaces = 0;
        List<String> gradNames = new ArrayList<>();
        for (TensorLife t : training.tensors()) {
            boolean alive = t.aliveAt(peak);
            switch (t.kind()) {
                case INPUT, ACTIVATION -> {
                    if (!alive) {
                        freed.add(t.name());
                        freedBytes += t.bytes();
                    }
                }
                case ACTIVATION_GRADIENT -> {
                    if (alive) {
                        activationGrads += t.bytes();
                        gradNames.add(t.name());
                    }
                }
                case PARAMETER_GRADIENT -> paramGrads += alive ? t.bytes() : 0;
                case WORKSPACE -> workspaces += alive ? t.bytes() : 0;
            }
        }
        String at = "at the busiest step (" + training.steps().get(peak) + ")";
        lines.add(new Line("forward tensors already freed " + at + ": " + (freed.isEmpty() ? "none" : String.join(", ", freed)),
                -freedBytes));
        lines.add(new Line("activation gradients alive " + at + ": " + (gradNames.isEmpty() ? "none"
                : String.join(", ", gradNames)), activationGrads));
        lines.add(new Line("parameter gradients alive " + at, paramGrads));
        lines.add(new Line("workspaces alive " + at, workspaces));
        lines.add(new Line("optimizer state (" + optimizer.id() + ", " + optimizer.stateCopies() + " x parameters)",
                optimizerStateBytes()));
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
