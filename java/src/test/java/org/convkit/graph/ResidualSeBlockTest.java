package org.convkit.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.exec.ExecutionMode;
import org.convkit.exec.InferenceResult;
import org.convkit.exec.RunOptions;
import org.convkit.exec.Session;
import org.convkit.memory.Allocator;
import org.convkit.memory.Footprint;
import org.convkit.memory.Liveness;
import org.convkit.memory.Optimizer;
import org.convkit.memory.TensorLife;
import org.convkit.ops.Activation;
import org.convkit.ops.ActivationOp;
import org.convkit.ops.Binary;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.GlobalPool2d;
import org.convkit.ops.Padding;
import org.convkit.ops.Reshape;
import org.convkit.ops.SqueezeExcite;
import org.convkit.tensor.Compare;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An SE-ResNet block (seed.md section 6), a DAG: two 3x3 convolutions, a squeeze-and-excitation
 * branch, a residual add with ReLU. Written twice: with the fused {@link SqueezeExcite} op and
 * with its parts (global average pool, flatten, dense + ReLU, dense, sigmoid, reshape, channel
 * scale). Both must compute the same on every device, and the memory manager must plan the DAG
 * (the residual keeps the block's input alive to the end; the SE branch keeps conv2's output alive
 * across it) and measure what it planned.
 */
@ExtendWith(HostLeakCheck.class)
class ResidualSeBlockTest {
    private static final Shape INPUT = Shape.nchw(2, 64, 14, 14);
    private static final int HIDDEN = 64 / 16;
    private static Model fused;
    private static Model parts;
    private static Allocator host;
    private static Tensor x;

    static Graph.Builder convs(String name) {
        return Graph.builder(name, INPUT)
                .add("conv1", Conv2d.builder(64).kernel(3).padding(Padding.SAME).activation(Activation.RELU).build())
                .add("conv2", Conv2d.builder(64).kernel(3).padding(Padding.SAME).build());
    }

    @BeforeAll
    static void build() {
        fused = convs("se-block fused").add("se", SqueezeExcite.of(16), "conv2")
                .add("add", Binary.add(Activation.RELU), "se", Graph.INPUT).build(5);
        parts = convs("se-block parts")
                .add("pool", GlobalPool2d.avg(), "conv2")
                .add("flat", Flatten.axis(1))
                .add("fc1", Dense.linear(HIDDEN, true, Activation.RELU))
                .add("fc2", Dense.linear(64, true, Activation.NONE))
                .add("gate", ActivationOp.sigmoid())
                .add("gate4", Reshape.to(0, 0, 1, 1))
                .add("scaled", Binary.mul(), "conv2", "gate4")
                .add("add", Binary.add(Activation.RELU), "scaled", Graph.INPUT).build(6);
        // The same numbers in both: convolutions, then W1, b1, W2, b2.
        for (String conv : List.of("conv1", "conv2")) {
            for (int p = 0; p < 2; p++) {
                parts.parameters(conv).get(p).copyFrom(fused.parameters(conv).get(p));
            }
        }
        List<Tensor> se = fused.parameters("se");
        parts.parameters("fc1").get(0).copyFrom(se.get(0));
        parts.parameters("fc1").get(1).copyFrom(se.get(1));
        parts.parameters("fc2").get(0).copyFrom(se.get(2));
        parts.parameters("fc2").get(1).copyFrom(se.get(3));
        host = Allocator.root("se-block host");
        x = Tensor.allocate(INPUT, DType.F32, host, "x").fillUniform(7, -1f, 1f);
    }

    @AfterAll
    static void close() {
        x.close();
        host.close();
        fused.close();
        parts.close();
    }

    @Test
    void theFusedBlockEqualsItsPartsOnEveryDevice() {
        for (DeviceInfo info : TestDevices.all()) {
            try (Device d = Backends.system().open(info.name()); Session a = Session.open(fused, d);
                    Session b = Session.open(parts, d);
                    InferenceResult ra = a.run(x, RunOptions.DEFAULT.withHostAllocator(host));
                    InferenceResult rb = b.run(x, RunOptions.DEFAULT.withHostAllocator(host))) {
                double diff = Compare.maxRelativeDifference(ra.output(), rb.output());
                assertTrue(diff <= 1e-5, info.name() + ": fused vs parts " + diff);
            }
        }
    }

    @Test
    void theDagIsPlannedWithinFivePercentOfItsLowerBound() {
        Liveness l = Liveness.inference(parts.graph(), DType.F32);
        TensorLife in = l.tensors().get(0);
        assertEquals(Graph.INPUT, in.name());
        assertEquals(l.steps().indexOf("add"), in.last(), "the residual keeps the input alive to the add");
        TensorLife conv2 = l.tensors().stream().filter(t -> t.name().equals("conv2")).findFirst().orElseThrow();
        assertEquals(l.steps().indexOf("scaled"), conv2.last(), "the SE branch keeps conv2 alive across it");
        for (Graph g : List.of(parts.graph(), fused.graph())) {
            Footprint f = Footprint.of(g, DType.F32, Optimizer.MOMENTUM, 128);
            assertTrue(f.inferencePlanned() <= 1.05 * f.inferenceLowerBound(),
                    g.name() + ": planned " + f.inferencePlanned() + " vs lower bound " + f.inferenceLowerBound());
            assertTrue(f.trainingPlanned() - f.optimizerStateBytes() <= 1.05 * (f.trainingLowerBound() - f.optimizerStateBytes()),
                    g.name() + " training: planned " + f.trainingPlanned() + " vs lower bound " + f.trainingLowerBound());
        }
    }

    @Test
    void measuredEqualsPlannedOnEveryDeviceInBothModes() {
        long params = parts.parameterBytes(DType.F32);
        for (DeviceInfo info : TestDevices.all()) {
            try (Device d = Backends.system().open(info.name())) {
                for (ExecutionMode mode : ExecutionMode.values()) {
                    try (Session s = Session.open(parts, d, mode);
                            InferenceResult r = s.run(x, RunOptions.DEFAULT.withHostAllocator(host))) {
                        long planned = params + (mode == ExecutionMode.PLANNED ? s.plan().arenaBytes()
                                : s.liveness().peakBytes());
                        assertEquals(planned, s.allocator().peakBytes(), info.name() + " " + mode);
                        assertEquals(Footprint.of(parts.graph(), DType.F32, Optimizer.SGD, d.viewAlignment())
                                .inferenceLowerBound(), params + s.liveness().peakBytes(), "the session's plan is the report's");
                    }
                }
            }
        }
    }
}
