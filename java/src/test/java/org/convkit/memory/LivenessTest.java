package org.convkit.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.convkit.graph.Graph;
import org.convkit.graph.SeedNet;
import org.convkit.tensor.DType;
import org.junit.jupiter.api.Test;

/** Lifetimes and peaks of the seed network (seed.md section 2), byte for byte. */
class LivenessTest {
    @Test
    void seedInferenceFreesEachActivationAfterItsReader() {
        Liveness l = Liveness.inference(SeedNet.graph(1), DType.F32);
        assertEquals(List.of("conv1", "conv2", "conv3"), l.steps());
        assertEquals(List.of(new TensorLife("input", TensorLife.Kind.INPUT, 720_000, 0, 0),
                new TensorLife("conv1", TensorLife.Kind.ACTIVATION, 6_000_000, 0, 1),
                new TensorLife("conv2", TensorLife.Kind.ACTIVATION, 3_000_000, 1, 2),
                new TensorLife("conv3", TensorLife.Kind.ACTIVATION, 1_520_000, 2, 2)), l.tensors());
        assertEquals(6_720_000, l.liveBytesAt(0));
        assertEquals(9_000_000, l.liveBytesAt(1));
        assertEquals(4_520_000, l.liveBytesAt(2));
        assertEquals(1, l.peakStep());
        assertEquals(9_000_000, l.peakBytes(), "conv1 + conv2: the optimal inference activations");
        assertEquals(11_240_000, l.totalBytes(), "keeping everything: the input and all three activations");
        ArenaPlan p = l.plan(128);
        p.verify();
        assertEquals(9_000_000, p.arenaBytes(), "the arena reaches the lower bound");
        assertEquals(0, p.offset("conv1"));
        assertEquals(6_000_000, p.offset("conv2"));
        assertEquals(0, p.offset("conv3"));
        assertEquals(6_000_000, p.offset("input"));
    }

    @Test
    void seedTrainingAtBatchFiftyKeepsWhatBackwardReads() {
        Graph g = SeedNet.graph(50);
        Liveness l = Liveness.training(g, DType.F32);
        assertEquals(List.of("conv1", "conv2", "conv3", "loss", "backward conv3", "backward conv2", "backward conv1",
                "optimizer"), l.steps());
        // Forward tensors, as the textbook counts them: 50 * 10,520,000 + 50 * 720,000.
        long forward = l.tensors().stream().filter(t -> t.kind() == TensorLife.Kind.ACTIVATION
                || t.kind() == TensorLife.Kind.INPUT).mapToLong(TensorLife::bytes).sum();
        assertEquals(526_000_000L + 36_000_000L, forward);
        assertEquals(565_613_600L, forward + g.parameterBytes(DType.F32), "the textbook's bare minimum");
        // The busiest step is conv2's backward: input 36 M, conv1 300 M (conv1's backward still
        // needs it), conv2 150 M (its ReLU mask), d(conv2) 150 M, d(conv1) 300 M (being written),
        // and the parameter gradients of conv3 (2,881,600) and conv2 (720,800).
        assertEquals("backward conv2", l.steps().get(l.peakStep()));
        assertEquals(36_000_000L + 300_000_000L + 150_000_000L + 150_000_000L + 300_000_000L + 2_881_600L + 720_800L,
                l.peakBytes());
        ArenaPlan p = l.plan(128);
        p.verify();
        // d(conv2 parameters) is 720,800 B, not a multiple of 128: the next offset rounds up by 64 B.
        assertEquals(l.peakBytes() + 64, p.arenaBytes());
    }
}
