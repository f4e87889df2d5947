package org.convkit.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.graph.DigitNet;
import org.convkit.graph.Graph;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.memory.Checkpointing;
import org.convkit.memory.Footprint;
import org.convkit.memory.Optimizer;
import org.convkit.memory.TrainingSchedule;
import org.convkit.ops.SoftmaxCrossEntropy;
import org.convkit.tensor.DType;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A training step's measured device-memory peak equals its planned footprint to the byte, on
 * every device, in eager mode (the schedule's lower bound) and in planned mode (its arena), with
 * and without checkpointing, for each optimizer; a planned step allocates nothing; both modes
 * compute the same losses, bit for bit.
 */
@ExtendWith(HostLeakCheck.class)
class TrainingFootprintTest {
    /** A model, an optimizer and a checkpointing option. */
    record Case(String name, Graph graph, Optimizer optimizer, Checkpointing checkpointing) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Case> cases() {
        return List.of(new Case("digitnet b8 adam", DigitNet.graph(8), Optimizer.ADAM, Checkpointing.none()),
                new Case("digitnet b8 momentum, 3 segments", DigitNet.graph(8), Optimizer.MOMENTUM, Checkpointing.segments(3)),
                new Case("residual b3 sgd", TrainingModels.residual(3), Optimizer.SGD, Checkpointing.none()),
                new Case("residual b3 adam, checkpoint at add", TrainingModels.residual(3), Optimizer.ADAM,
                        Checkpointing.at("add")),
                new Case("batch-normalized b4 momentum, checkpoint at act", TrainingModels.normalized(4),
                        Optimizer.MOMENTUM, Checkpointing.at("act")));
    }

    static List<Object[]> deviceCases() {
        List<Object[]> out = new ArrayList<>();
        for (DeviceInfo d : TestDevices.all()) {
            for (Case c : cases()) {
                out.add(new Object[] {d.name(), c});
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("deviceCases")
    void measuredPeakIsThePlannedFootprintInBothModes(String device, Case c) {
        Allocator host = Allocator.root("footprint test host");
        try (Device d = Backends.system().open(device);
                Model model = Model.withRandomParameters(c.graph(), 3);
                Tensor images = Tensor.allocate(c.graph().inputShape(), DType.F32, host, "images").fillUniform(4, -1f, 1f);
                Tensor labels = labels(c.graph(), host)) {
            TrainingOptions options = TrainingOptions.adam(0.01f).withOptimizer(c.optimizer())
                    .withCheckpointing(c.checkpointing());
            double[][] losses = new double[2][];
            for (ExecutionMode mode : ExecutionMode.values()) {
                // The same starting weights for both modes: a fresh model copy each time.
                try (Model start = model.withInput(model.inputShape());
                        Trainer t = Trainer.open(start, d, options.withMode(mode))) {
                    Footprint f = t.footprint();
                    long expected = mode == ExecutionMode.EAGER ? f.trainingLowerBound() : f.trainingPlanned();
                    assertEquals(expected, t.plannedBytes(), "the trainer's figure is the footprint's");
                    if (mode == ExecutionMode.PLANNED) {
                        assertEquals(t.plannedBytes(), t.allocator().liveBytes(), "planned: everything allocated at open");
                    } else {
                        assertNull(t.plan());
                        assertEquals(t.schedule().persistentBytes(), t.allocator().liveBytes(),
                                "eager: parameters, state and scalars at open");
                    }
                    losses[mode.ordinal()] = new double[3];
                    for (int s = 0; s < 3; s++) {
                        long allocations = d.allocator().allocationCount();
                        StepResult r = t.step(images, labels);
                        losses[mode.ordinal()][s] = r.loss();
                        assertEquals(t.plannedBytes(), r.peakBytes(), device + " " + c + " " + mode + " step " + s
                                + ": measured peak vs plan\n" + t.allocator().tree());
                        assertEquals(t.plannedBytes(), t.allocator().peakBytes());
                        assertEquals(mode == ExecutionMode.EAGER ? t.schedule().persistentBytes() : t.plannedBytes(),
                                t.allocator().liveBytes(), "after a step only what persists is left");
                        if (mode == ExecutionMode.PLANNED) {
                            assertEquals(allocations, d.allocator().allocationCount(), "planned: a step allocates nothing");
                        }
                        assertTrue(Double.isFinite(r.loss()), "loss " + r.loss());
                    }
                    if (c.checkpointing().enabled()) {
                        assertTrue(f.recomputeFlops() > 0, "checkpointing recomputes something here");
                    }
                }
            }
            for (int s = 0; s < 3; s++) {
                assertEquals(losses[0][s], losses[1][s], "eager and planned run the same kernels on the same data");
            }
        } finally {
            host.close();
        }
    }

    /** Labels cycling through the classes. */
    static Tensor labels(Graph g, Allocator host) {
        TrainingSchedule s = TrainingSchedule.of(g, DType.F32, TrainingSchedule.Updates.of(Optimizer.SGD),
                Checkpointing.none());
        Tensor t = Tensor.allocate(SoftmaxCrossEntropy.labelsShape(g.layer(s.logits()).outputShape()), DType.F32, host,
                "labels");
        int classes = g.layer(s.logits()).outputShape().dim(1);
        for (long i = 0; i < t.elementCount(); i++) {
            t.set(i, (float) (i * 3 % classes));
        }
        return t;
    }
}
