package org.convkit.ops.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;

import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

class UpdateOpsTest {
    private static final Shape W = Shape.nchw(8, 3, 3, 3);

    @Test
    void sgdReadsTheGradientTheVelocityWithMomentumAndTheScalars() {
        SgdUpdate plain = SgdUpdate.plain();
        assertFalse(plain.hasVelocity());
        assertEquals("sgd_update", plain.name());
        assertEquals(W, plain.outputShape(List.of(W, StepScalars.SHAPE)));
        assertEquals(2 * W.elementCount(), plain.flops(List.of(W, StepScalars.SHAPE)));
        SgdUpdate m = SgdUpdate.withMomentum(0.9f);
        assertEquals("sgd_momentum_update", m.name());
        assertEquals(3, m.arity());
        assertEquals(W, m.outputShape(List.of(W, W, StepScalars.SHAPE)));
        assertEquals(SgdUpdate.withMomentum(0.9f), m);
        assertEquals(SgdUpdate.plain(), SgdUpdate.withMomentum(0f));
        assertTrue(m.describe(List.of(W, W, StepScalars.SHAPE)).contains("momentum=0.9"));
    }

    @Test
    void adamReadsTwoMomentsAndItsScalarsCarryTheBiasCorrections() {
        AdamUpdate a = AdamUpdate.defaults();
        assertEquals(4, a.arity());
        assertEquals(W, a.outputShape(List.of(W, W, W, StepScalars.SHAPE)));
        assertEquals(13 * W.elementCount(), a.flops(List.of(W, W, W, StepScalars.SHAPE)));
        float[] first = StepScalars.adam(0.001f, 0.9f, 0.999f, 1);
        // The betas are floats: 0.999f is 0.99899999..., so the second correction is 1000.0129, not 1000.
        assertArrayEquals(new float[] {0.001f, (float) (1 / (1 - (double) 0.9f)), (float) (1 / (1 - (double) 0.999f)), 0f},
                first);
        assertEquals(10f, first[1], 1e-5f);
        float[] late = StepScalars.adam(0.001f, 0.9f, 0.999f, 100_000);
        assertEquals(1f, late[1], 1e-6f);
        assertEquals(1f, late[2], 1e-6f);
        assertArrayEquals(new float[] {0.5f, 1f, 1f, 0f}, StepScalars.sgd(0.5f));
    }

    private static void rejects(Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void shapesAndHyperParametersAreChecked() {
        rejects(() -> SgdUpdate.withMomentum(1f), "sgd_update: momentum", "[0, 1)", "1.0");
        rejects(() -> SgdUpdate.withMomentum(Float.NaN), "momentum");
        rejects(() -> AdamUpdate.of(0.9f, 1f, 1e-8f), "adam_update: beta1 and beta2");
        rejects(() -> AdamUpdate.of(0.9f, 0.99f, 0f), "adam_update: epsilon");
        rejects(() -> StepScalars.adam(0.1f, 0.9f, 0.99f, 0), "adam: step number");
        rejects(() -> SgdUpdate.withMomentum(0.9f).outputShape(List.of(W, Shape.of(8), StepScalars.SHAPE)),
                "sgd_momentum_update: velocity", "8x3x3x3", "got 8");
        rejects(() -> SgdUpdate.plain().outputShape(List.of(W, Shape.of(3))), "sgd_update: step scalars", "4", "got 3");
        rejects(() -> AdamUpdate.defaults().outputShape(List.of(W, W, Shape.of(2), StepScalars.SHAPE)),
                "adam_update: second moment");
        rejects(() -> Accumulate.INSTANCE.outputShape(List.of(W, W)), "accumulate", "1 input(s)");
        rejects(() -> RunningAverage.mean(0f), "running_average: momentum");
        rejects(() -> RunningAverage.variance(0.1f, 0), "running_average: count");
        rejects(() -> RunningAverage.mean(0.1f).outputShape(List.of(Shape.of(3, 8))), "running_average: statistics",
                "[2, C]", "3x8");
    }

    @Test
    void theRunningVarianceIsMadeUnbiased() {
        assertEquals(Shape.of(8), RunningAverage.mean(0.1f).outputShape(List.of(Shape.of(2, 8))));
        assertEquals(1f, RunningAverage.mean(0.1f).correction());
        assertEquals(50f / 49f, RunningAverage.variance(0.1f, 50).correction());
        assertEquals(1f, RunningAverage.variance(0.1f, 1).correction(), "one value: nothing to correct by");
        assertEquals(1, RunningAverage.variance(0.1f, 50).row());
    }
}
