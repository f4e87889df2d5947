package org.convkit.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;

import org.convkit.graph.DigitNet;
import org.convkit.graph.Graph;
import org.convkit.ops.Activation;
import org.convkit.ops.Binary;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.Op;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.ops.Softmax;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

/** What a training step runs and when each tensor lives, on small graphs checked by hand. */
class TrainingScheduleTest {
    /** conv1 feeds both conv2 and the residual add: its gradient has two contributions. */
    static Graph residual() {
        Graph.Builder b = Graph.builder("res", Shape.nchw(2, 3, 8, 8));
        b.add("conv1", Conv2d.builder(4).kernel(3).padding(Padding.SAME).activation(Activation.RELU).build());
        b.add("conv2", Conv2d.builder(4).kernel(3).padding(Padding.SAME).build(), "conv1");
        b.add("add", Binary.add(Activation.RELU), "conv2", "conv1");
        b.add("pool", Pool2d.max(2).stride(2).build(), "add");
        b.add("flat", Flatten.DEFAULT, "pool");
        b.add("dense", Dense.builder(5).build(), "flat");
        b.add("prob", Softmax.of(1), "dense");
        return b.graph();
    }

    private static TrainingSchedule schedule(Graph g, Checkpointing c) {
        return TrainingSchedule.of(g, DType.F32, TrainingSchedule.Updates.of(Optimizer.ADAM), c);
    }

    private static int index(TrainingSchedule s, String step) {
        List<String> names = s.steps().stream().map(TrainingSchedule.Step::name).toList();
        assertTrue(names.contains(step), step + " not in " + names);
        return names.indexOf(step);
    }

    private static TensorLife life(Liveness l, String tensor) {
        return l.tensors().stream().filter(t -> t.name().equals(tensor)).findFirst().orElseThrow(
                () -> new AssertionError(tensor + " not in " + l.tensors()));
    }

    @Test
    void aTensorFeedingTwoLayersGetsItsGradientAccumulated() {
        TrainingSchedule s = schedule(residual(), Checkpointing.none());
        Liveness l = Liveness.training(s);
        // The add (run first in the backward pass) writes d(conv1); conv2's data gradient writes a
        // partial that is accumulated into it and freed right after.
        int direct = index(s, "backward add: d(conv1)");
        int partial = index(s, "backward conv2: d(conv1) from conv2 input 0");
        int accumulate = index(s, "accumulate d(conv1) from conv2 input 0");
        assertTrue(direct < partial && partial + 1 == accumulate);
        TrainingSchedule.Step acc = s.steps().get(accumulate);
        assertEquals(TrainingSchedule.Action.ACCUMULATE, acc.action());
        assertEquals("d(conv1)", acc.output());
        assertEquals(List.of("d(conv1) from conv2 input 0"), acc.args());
        assertEquals(new TensorLife("d(conv1) from conv2 input 0", TensorLife.Kind.ACTIVATION_GRADIENT, 2048, partial,
                accumulate), life(l, "d(conv1) from conv2 input 0"));
        assertEquals(direct, life(l, "d(conv1)").first());
        assertEquals(index(s, "backward conv1: d(conv1/bias)"), life(l, "d(conv1)").last());
    }

    @Test
    void parametersAreUpdatedOnceNothingReadsThemAndTheInputGetsNoGradient() {
        TrainingSchedule s = schedule(residual(), Checkpointing.none());
        // The dense layer's input gradient reads its weight: the weight's update follows it,
        // while the bias, read by no term, is updated as soon as its gradient exists.
        assertEquals(index(s, "backward dense: d(flat)") + 1, index(s, "update dense/weight"));
        assertEquals(index(s, "backward dense: d(dense/bias)") + 1, index(s, "update dense/bias"));
        TrainingSchedule.Step update = s.steps().get(index(s, "update dense/weight"));
        assertEquals(List.of("d(dense/weight)", "dense/weight/m", "dense/weight/v", TrainingSchedule.SCALARS),
                update.args());
        assertEquals("dense/weight", update.output());
        // Every parameter is updated exactly once; nothing computes d(input).
        assertEquals(6, s.steps().stream().filter(st -> st.action() == TrainingSchedule.Action.UPDATE).count());
        assertFalse(s.tensors().containsKey("d(input)"));
        // The softmax is not run: the loss reads the logits.
        assertEquals("dense", s.logits());
        assertFalse(s.steps().stream().anyMatch(st -> "prob".equals(st.layer())));
        assertEquals(List.of("dense", TrainingSchedule.LABELS), s.steps().get(index(s, "loss")).args());
        assertEquals(Shape.of(2, 2), s.tensors().get(TrainingSchedule.LOSS).shape());
        // Persistent: 585 parameters (112 + 148 + 325), Adam's two moments, 16 B of scalars.
        assertEquals(585 * 4 * 3 + 16, s.persistentBytes());
        assertTrue(s.modelledLayers().isEmpty());
    }

    @Test
    void checkpointingRecomputesJustBeforeTheFirstReaderAndSavesTheKeptActivation() {
        TrainingSchedule plain = schedule(residual(), Checkpointing.none());
        TrainingSchedule ckpt = schedule(residual(), Checkpointing.at("add"));
        assertEquals(List.of("add"), ckpt.checkpoints());
        // conv1 is freed after the forward pass last reads it (the add) and recomputed from the
        // input right before conv2's weight gradient, its first reader in the backward pass.
        Liveness l = Liveness.training(ckpt);
        assertEquals(index(ckpt, "add"), life(l, "conv1").last());
        int recompute = index(ckpt, "recompute conv1");
        assertEquals(recompute + 1, index(ckpt, "backward conv2: d(conv2/weight)"));
        assertEquals(List.of("input", "conv1/weight", "conv1/bias"), ckpt.steps().get(recompute).args());
        assertEquals(recompute, life(l, "conv1 (recomputed)").first());
        assertEquals(TensorLife.Kind.RECOMPUTED, life(l, "conv1 (recomputed)").kind());
        // The extra compute is conv1's forward pass, once.
        Op conv1 = residual().layer("conv1").op();
        assertEquals(conv1.flops(List.of(Shape.nchw(2, 3, 8, 8))), ckpt.flops(TrainingSchedule.Action.RECOMPUTE));
        assertEquals(plain.flops() + ckpt.flops(TrainingSchedule.Action.RECOMPUTE), ckpt.flops());
        Footprint p = Footprint.of(plain, 128);
        Footprint c = Footprint.of(ckpt, 128);
        assertTrue(c.trainingPlanned() < p.trainingPlanned(), c.trainingPlanned() + " vs " + p.trainingPlanned());
        long sum = c.trainingTextbook() + c.trainingDifference().stream().mapToLong(Footprint.Line::bytes).sum();
        assertEquals(c.trainingPlanned(), sum, "the lines add up with recomputed activations too");
    }

    @Test
    void segmentsAreCutWhereASingleTensorCrosses() {
        assertEquals(List.of(1, 3, 4, 5, 6), Checkpointing.cutPoints(residual().layers()),
                "not after conv2: conv1 still crosses to the add");
        TrainingSchedule s = schedule(DigitNet.graph(8), Checkpointing.segments(3));
        assertEquals(List.of("pool1", "pool2"), s.checkpoints());
        assertEquals(Set.of("recompute conv1", "recompute conv2"), Set.copyOf(s.steps().stream()
                .filter(st -> st.action() == TrainingSchedule.Action.RECOMPUTE).map(TrainingSchedule.Step::name).toList()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> schedule(residual(), Checkpointing.at("conv2")));
        assertTrue(e.getMessage().contains("'conv2'") && e.getMessage().contains("cut points: [conv1, add"), e.getMessage());
        assertFalse(Checkpointing.segments(1).enabled());
        assertThrows(IllegalArgumentException.class, () -> Checkpointing.segments(0));
    }

    /** An op without gradient terms (none of convkit's, once every backward pass exists): planned by a model. */
    private static final class Opaque implements Op {
        @Override
        public String name() {
            return "opaque";
        }

        @Override
        public Shape outputShape(List<Shape> inputs) {
            return inputs.get(0);
        }

        @Override
        public List<Shape> parameterShapes(List<Shape> inputs) {
            return List.of(Shape.of(3));
        }

        @Override
        public long flops(List<Shape> inputs) {
            return 7;
        }

        @Override
        public String describe(List<Shape> inputs) {
            return "opaque";
        }
    }

    @Test
    void anOpWithoutGradientTermsIsPlannedNotTrainedAndReservedNamesAreRefused() {
        Graph.Builder b = Graph.builder("opaque", Shape.of(4, 6));
        b.add("dense", Dense.builder(5).build());
        b.add("odd", new Opaque());
        TrainingSchedule s = schedule(b.graph(), Checkpointing.none());
        assertEquals(Set.of("odd"), s.modelledLayers());
        assertTrue(s.steps().stream().anyMatch(st -> st.name().equals("backward odd: d(dense)")));
        Graph.Builder bad = Graph.builder("bad", Shape.of(4, 6));
        bad.add("loss", Dense.builder(5).build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> schedule(bad.graph(), Checkpointing.none()));
        assertTrue(e.getMessage().contains("'loss'") && e.getMessage().contains("reserved"), e.getMessage());
    }
}
