package org.convkit.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.convkit.graph.SeedNet;
import org.convkit.tensor.DType;
import org.junit.jupiter.api.Test;

/** The seed network's footprints (seed.md sections 2 and 3), byte for byte. */
class FootprintTest {
    @Test
    void inferenceAtBatchOne() {
        Footprint f = Footprint.of(SeedNet.graph(1), DType.F32, Optimizer.MOMENTUM, 128);
        assertEquals(903_400 * 4L, f.parameterBytes());
        assertEquals(12_613_600, f.inferenceLowerBound(), "parameters + conv1 + conv2");
        assertEquals(12_613_600, f.inferencePlanned());
        assertEquals(3_613_600 + 720_000 + 10_520_000, f.inferenceNaive(), "parameters + input + every activation");
        // The figure in circulation, 18,613,600 B, takes conv2 as 9,000,000 B: it is 4*50*75*200 = 3,000,000 B.
        assertEquals(3_000_000, f.activations().get(2).bytes());
        assertEquals(18_613_600 - 6_000_000, f.inferencePlanned());
    }

    @Test
    void trainingAtBatchFiftyFromTheTextbookToThePlanLineByLine() {
        Footprint f = Footprint.of(SeedNet.graph(50), DType.F32, Optimizer.MOMENTUM, 128);
        assertEquals(565_613_600L, f.trainingTextbook(), "the textbook's optimistic bare minimum, 539.4 MiB");
        assertEquals(3_613_600L + 3_613_600L + 16 + 936_720_000L, f.trainingLowerBound());
        assertEquals(f.trainingLowerBound(), f.trainingPlanned());
        assertEquals(943_947_216L, f.trainingPlanned());
        List<Footprint.Line> lines = f.trainingDifference();
        assertEquals(List.of(-76_000_000L, 450_000_000L, 720_000L, 3_613_600L, 16L, 0L),
                lines.stream().map(Footprint.Line::bytes).toList());
        assertTrue(lines.get(0).what().contains("conv3") && lines.get(1).what().contains("d(conv2), d(conv1)")
                && lines.get(2).what().contains("d(conv2/weight)"), lines.toString());
        long sum = f.trainingTextbook() + lines.stream().mapToLong(Footprint.Line::bytes).sum();
        assertEquals(f.trainingPlanned(), sum, "the lines add up to the plan");
        assertEquals(f.trainingPlanned() - f.parameterBytes(),
                Footprint.of(SeedNet.graph(50), DType.F32, Optimizer.SGD, 128).trainingPlanned(), "plain SGD keeps no state");
        assertEquals(f.trainingPlanned() + f.parameterBytes(),
                Footprint.of(SeedNet.graph(50), DType.F32, Optimizer.ADAM, 128).trainingPlanned(), "Adam keeps two copies");
    }

    @Test
    void halfPrecisionHalvesEveryTensor() {
        Footprint f = Footprint.of(SeedNet.graph(1), DType.F16, Optimizer.SGD, 128);
        assertEquals(12_613_600 / 2, f.inferenceLowerBound());
        // conv1 (3,000,000 B) sits at 0 and conv2 right after it; 3,000,000 is not a multiple of
        // 128, so conv2's offset rounds up to 3,000,064.
        assertEquals(12_613_600 / 2 + 64, f.inferencePlanned());
    }

    @Test
    void theFiveRemediesForTrainingAtBatchFiftyIn256MiB() {
        long budget = 256L << 20;
        OomAdvisor advisor = new OomAdvisor(SeedNet.graph(50), DType.F32, Optimizer.MOMENTUM, 128,
                OomAdvisor.Target.TRAINING);
        assertTrue(advisor.footprint(SeedNet.graph(50), DType.F32) > budget, "it does not fit as it is");
        List<OomAdvisor.Remedy> rs = advisor.advise(budget);

        OomAdvisor.Remedy batch = rs.get(0);
        assertEquals("batch 50 -> 13", batch.change());
        assertTrue(batch.fits());
        assertEquals(advisor.footprint(SeedNet.graph(13), DType.F32), batch.bytes());
        assertTrue(advisor.footprint(SeedNet.graph(14), DType.F32) > budget, "13 is the largest");

        List<OomAdvisor.Remedy> strides = rs.stream().filter(r -> r.number() == 2).toList();
        assertEquals(3, strides.size(), "each convolution");
        assertTrue(strides.get(0).change().startsWith("conv1 stride 2 -> 3"));
        // A stride of 3 in conv1 shrinks every later activation (943.9 MB -> 447.9 MB): the best
        // of the three, but not enough for 256 MiB on its own.
        assertEquals(447_947_216L, strides.get(0).bytes());
        assertTrue(strides.get(0).bytes() < strides.get(1).bytes() && strides.get(1).bytes() < strides.get(2).bytes());
        assertTrue(strides.stream().noneMatch(OomAdvisor.Remedy::fits));

        List<OomAdvisor.Remedy> removals = rs.stream().filter(r -> r.number() == 3).toList();
        assertEquals(List.of("without conv1", "without conv2", "without conv3"),
                removals.stream().map(OomAdvisor.Remedy::change).toList());

        OomAdvisor.Remedy half = rs.stream().filter(r -> r.number() == 4).findFirst().orElseThrow();
        assertEquals(Footprint.of(SeedNet.graph(50), DType.F16, Optimizer.MOMENTUM, 128).trainingPlanned(), half.bytes());
        assertFalse(half.fits(), "f16 halves 944 MB to 472 MB: still over 256 MiB");

        OomAdvisor.Remedy dp = rs.stream().filter(r -> r.remedy().contains("data-parallel")).findFirst().orElseThrow();
        assertEquals("4 devices, batch 13 each", dp.change());
        assertTrue(dp.fits());
        OomAdvisor.Remedy pipe = rs.stream().filter(r -> r.remedy().contains("by layers")).findFirst().orElseThrow();
        assertFalse(pipe.fits(), "conv1 alone needs its 300 MB activation and its 300 MB gradient: " + pipe);

        OomAdvisor.Remedy checkpoints = rs.get(rs.size() - 1);
        assertEquals(6, checkpoints.number());
        assertEquals(f50(), checkpoints.bytes(), "each segment of the seed network is a layer: nothing to recompute");
        assertEquals("checkpoints at conv1 (2 segments): saves nothing here", checkpoints.change());

        assertThrows(IllegalArgumentException.class, () -> advisor.advise(0));
    }

    private static long f50() {
        return Footprint.of(SeedNet.graph(50), DType.F32, Optimizer.MOMENTUM, 128).trainingPlanned();
    }

    @Test
    void inferenceBudgetsJudgeTheInferencePlan() {
        OomAdvisor advisor = new OomAdvisor(SeedNet.graph(8), DType.F32, Optimizer.SGD, 128, OomAdvisor.Target.INFERENCE);
        List<OomAdvisor.Remedy> rs = advisor.advise(3_613_600 + 4 * 9_000_000);
        assertEquals("batch 8 -> 4", rs.get(0).change());
        assertTrue(rs.stream().noneMatch(r -> r.number() == 6), "checkpointing is a training remedy");
        assertEquals(3_613_600 + 4 * 9_000_000, rs.get(0).bytes());
    }
}
