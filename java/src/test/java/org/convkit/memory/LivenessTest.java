package org.convkit.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        assertEquals(List.of("conv1", "conv2", "conv3", "loss", "backward loss", "backward conv3: d(conv3/weight)",
                "backward conv3: d(conv3/bias)", "update conv3/bias", "backward conv3: d(conv2)", "update conv3/weight",
                "backward conv2: d(conv2/weight)", "backward conv2: d(conv2/bias)", "update conv2/bias",
                "backward conv2: d(conv1)", "update conv2/weight", "backward conv1: d(conv1/weight)", "update conv1/weight",
                "backward conv1: d(conv1/bias)", "update conv1/bias"), l.steps());
        // Forward tensors, as the textbook counts them: 50 * 10,520,000 + 50 * 720,000.
        long forward = l.tensors().stream().filter(t -> t.kind() == TensorLife.Kind.ACTIVATION
                || t.kind() == TensorLife.Kind.INPUT).mapToLong(TensorLife::bytes).sum();
        assertEquals(526_000_000L + 36_000_000L, forward);
        assertEquals(565_613_600L, forward + g.parameterBytes(DType.F32), "the textbook's bare minimum");
        // Each forward tensor lives until its last reader: the input until conv1's weight gradient,
        // conv1 until conv1's bias gradient (its ReLU mask), conv3 until conv3's data gradient.
        assertEquals(new TensorLife("input", TensorLife.Kind.INPUT, 36_000_000, 0, 15), l.tensors().get(0));
        assertEquals(new TensorLife("labels", TensorLife.Kind.LABELS, 190_000, 3, 4), l.tensors().get(1));
        assertEquals(new TensorLife("conv1", TensorLife.Kind.ACTIVATION, 300_000_000, 0, 17), l.tensors().get(2));
        assertEquals(new TensorLife("conv3", TensorLife.Kind.ACTIVATION, 76_000_000, 2, 8), l.tensors().get(4));
        // A parameter gradient lives from its term to its update.
        assertTrue(l.tensors().contains(new TensorLife("d(conv3/weight)", TensorLife.Kind.PARAMETER_GRADIENT, 2_880_000,
                5, 9)));
        // The busiest step is conv2's data gradient: input 36 M, conv1 300 M (conv1's backward still
        // needs it), conv2 150 M (its ReLU mask), d(conv2) 150 M, d(conv1) 300 M (being written) and
        // conv2's weight gradient, whose update waits for the data gradient (it reads the weights).
        assertEquals("backward conv2: d(conv1)", l.steps().get(l.peakStep()));
        assertEquals(36_000_000L + 300_000_000L + 150_000_000L + 150_000_000L + 300_000_000L + 720_000L, l.peakBytes());
        ArenaPlan p = l.plan(128);
        p.verify();
        assertEquals(l.peakBytes(), p.arenaBytes(), "every tensor is a multiple of 128 B: the arena reaches the bound");
    }
}
