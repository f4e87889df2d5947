package org.convkit.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;

import org.convkit.memory.Allocator;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(HostLeakCheck.class)
class BatchNormTest {
    @Test
    void resNetStemShapesAndCounts() {
        BatchNorm bn = BatchNorm.create();
        List<Shape> in = List.of(Shape.nchw(1, 64, 112, 112));
        assertEquals(Shape.nchw(1, 64, 112, 112), bn.outputShape(in));
        assertEquals(List.of(Shape.of(64), Shape.of(64), Shape.of(64), Shape.of(64)), bn.parameterShapes(in));
        assertEquals(List.of("scale", "bias", "mean", "var"), bn.parameterNames(in));
        assertEquals(256, bn.parameterCount(in));
        assertEquals(3L * 64 * 112 * 112, bn.flops(in));
        assertEquals((2L * 64 * 112 * 112 + 4 * 64) * 4, bn.bytesMoved(in, DType.F32));
        assertEquals("batchnorm(n=1,c=64,h=112,w=112,eps=1e-05)", bn.describe(in));
        assertEquals("batchnorm(in=64x70,eps=0.01)", BatchNorm.withEpsilon(0.01f).describe(List.of(Shape.of(64, 70))));
        assertEquals(1e-5f, bn.epsilon());
        assertEquals("batchnorm", bn.name());
    }

    @Test
    void ranksTwoThreeAndFiveKeepTheirShapeWithChannelsAtDimensionOne() {
        BatchNorm bn = BatchNorm.create();
        assertEquals(Shape.of(8, 70), bn.outputShape(Shape.of(8, 70)));
        assertEquals(List.of(Shape.of(70), Shape.of(70), Shape.of(70), Shape.of(70)), bn.parameterShapes(List.of(Shape.of(8, 70))));
        assertEquals(3, bn.channels(Shape.of(2, 3, 17)));
        assertEquals(5, bn.channels(Shape.of(1, 5, 2, 3, 4)));
    }

    @Test
    void initialisedVarianceIsPositiveAndScaleNearOne() {
        BatchNorm bn = BatchNorm.create();
        List<Shape> in = List.of(Shape.nchw(1, 500, 1, 1));
        try (Tensor scale = Tensor.allocate(Shape.of(500)); Tensor var = Tensor.allocate(Shape.of(500))) {
            bn.initParameter(in, 0, scale, 1);
            bn.initParameter(in, 3, var, 2);
            for (int i = 0; i < 500; i++) {
                assertTrue(scale.get(i) >= 0.75f && scale.get(i) <= 1.25f, "scale " + scale.get(i));
                assertTrue(var.get(i) >= 0.5f && var.get(i) <= 1.5f, "var " + var.get(i));
            }
        }
    }

    @Test
    void foldingWorkedByHand() {
        // Two output channels, epsilon 0: conv weight [2, 1, 1, 2], bias [0.5, -1].
        // Channel 0: f = 2 / sqrt(4) = 1, w' = w, b' = (0.5 - 1.5) * 1 + 0.25 = -0.75.
        // Channel 1: f = -3 / sqrt(0.25) = -6, w' = -6 w, b' = (-1 - 0) * -6 + 1 = 7.
        Conv2d conv = Conv2d.builder(2).kernel(1, 2).bias(true).build();
        Shape in = Shape.nchw(1, 1, 1, 2);
        Allocator host = Allocator.root("fold by hand");
        try (Tensor w = Tensor.of(Shape.of(2, 1, 1, 2), new float[] {1, 2, 3, 4}, host, "w");
                Tensor b = Tensor.of(Shape.of(2), new float[] {0.5f, -1}, host, "b");
                Tensor scale = Tensor.of(Shape.of(2), new float[] {2, -3}, host, "scale");
                Tensor bnB = Tensor.of(Shape.of(2), new float[] {0.25f, 1}, host, "B");
                Tensor mean = Tensor.of(Shape.of(2), new float[] {1.5f, 0}, host, "mean");
                Tensor var0 = Tensor.of(Shape.of(2), new float[] {4, 0.25f}, host, "var")) {
            try (BatchNorm.Folded f = BatchNorm.withEpsilon(0f).foldIntoConv(conv, in, w, b, scale, bnB, mean, var0, host)) {
                assertArrayEquals(new float[] {1, 2, -18, -24}, f.weight().toFloatArray());
                assertArrayEquals(new float[] {-0.75f, 7}, f.bias().toFloatArray());
                assertTrue(f.conv().hasBias());
            }
            // Without a conv bias, b = 0: channel 0 b' = -1.5 + 0.25, channel 1 b' = 1.
            Conv2d noBias = conv.toBuilder().bias(false).build();
            try (BatchNorm.Folded f = BatchNorm.withEpsilon(0f).foldIntoConv(noBias, in, w, null, scale, bnB, mean, var0,
                    host)) {
                assertArrayEquals(new float[] {-1.25f, 1}, f.bias().toFloatArray());
                assertEquals(noBias.toBuilder().bias(true).build(), f.conv());
            }
        }
        assertEquals(0, host.liveBytes());
        host.close();
    }

    private static void rejects(Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        assertTrue(e.getMessage().startsWith("batchnorm: "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void epsilonMustBeFiniteAndNonNegative() {
        rejects(() -> BatchNorm.withEpsilon(Float.NaN), "epsilon", "NaN");
        rejects(() -> BatchNorm.withEpsilon(-1e-5f), "epsilon", "-1.0E-5");
        rejects(() -> BatchNorm.withEpsilon(Float.POSITIVE_INFINITY), "epsilon", "Infinity");
    }

    @Test
    void inputOfRankOneIsRejected() {
        rejects(() -> BatchNorm.create().outputShape(Shape.of(64)), "rank 2 or more", "shape 64", "rank 1");
    }

    @Test
    void wrongNumberOfInputsIsRejected() {
        rejects(() -> BatchNorm.create().outputShape(List.of()), "expected 1 input");
    }

    @Test
    void aParameterIndexBeyondVarIsRejected() {
        try (Tensor t = Tensor.allocate(Shape.of(3))) {
            rejects(() -> {
                BatchNorm.create().initParameter(List.of(Shape.of(1, 3)), 4, t, 0);
                return null;
            }, "no parameter 4");
        }
    }

    /** A conv weight, a conv bias and a [OC] tensor of ones for the batch-norm parameters. */
    private record FoldArgs(Tensor w, Tensor b, Tensor c) implements AutoCloseable {
        @Override
        public void close() {
            w.close();
            b.close();
            c.close();
        }
    }

    private static FoldArgs foldArgs(Conv2d conv, Shape in) {
        return new FoldArgs(Tensor.allocate(conv.weightShape(in)), Tensor.allocate(Shape.of(conv.outChannels())),
                Tensor.allocate(Shape.of(conv.outChannels())).fill(1f));
    }

    @Test
    void aConvWithAnActivationDoesNotFold() {
        Conv2d relu = Conv2d.builder(4).kernel(3).activation(Activation.RELU).build();
        Shape in = Shape.nchw(1, 2, 5, 5);
        try (FoldArgs a = foldArgs(relu, in)) {
            rejects(() -> BatchNorm.create().foldIntoConv(relu, in, a.w(), a.b(), a.c(), a.c(), a.c(), a.c(), Allocator.host()),
                    "cannot fold into conv2d(", "relu", "before the normalization");
        }
    }

    @Test
    void foldParametersOfTheWrongShapeAreRejectedNamingBothShapes() {
        Conv2d conv = Conv2d.builder(4).kernel(3).build();
        Shape in = Shape.nchw(1, 2, 5, 5);
        try (FoldArgs a = foldArgs(conv, in); Tensor five = Tensor.allocate(Shape.of(5));
                Tensor wrongW = Tensor.allocate(Shape.of(4, 2, 3, 2))) {
            rejects(() -> BatchNorm.create().foldIntoConv(conv, in, wrongW, a.b(), a.c(), a.c(), a.c(), a.c(), Allocator.host()),
                    "conv weight has shape 4x2x3x2", "needs 4x2x3x3");
            rejects(() -> BatchNorm.create().foldIntoConv(conv, in, a.w(), a.b(), five, a.c(), a.c(), a.c(), Allocator.host()),
                    "scale has shape 5", "needs 4", "1x2x5x5");
            rejects(() -> BatchNorm.create().foldIntoConv(conv, in, a.w(), a.b(), a.c(), a.c(), a.c(), five, Allocator.host()),
                    "var has shape 5");
        }
    }

    @Test
    void foldBiasPresenceMustMatchTheConv() {
        Conv2d conv = Conv2d.builder(4).kernel(3).build();
        Shape in = Shape.nchw(1, 2, 5, 5);
        try (FoldArgs a = foldArgs(conv, in)) {
            rejects(() -> BatchNorm.create().foldIntoConv(conv, in, a.w(), null, a.c(), a.c(), a.c(), a.c(), Allocator.host()),
                    "has a bias but none was given");
            Conv2d noBias = conv.toBuilder().bias(false).build();
            rejects(() -> BatchNorm.create().foldIntoConv(noBias, in, a.w(), a.b(), a.c(), a.c(), a.c(), a.c(), Allocator.host()),
                    "has no bias but a bias tensor was given");
        }
    }

    @Test
    void foldRejectsAVarianceThatIsNotPositiveAfterEpsilon() {
        Conv2d conv = Conv2d.builder(4).kernel(3).build();
        Shape in = Shape.nchw(1, 2, 5, 5);
        try (FoldArgs a = foldArgs(conv, in); Tensor var = Tensor.allocate(Shape.of(4)).fill(1f)) {
            var.set(2, -1f);
            rejects(() -> BatchNorm.create().foldIntoConv(conv, in, a.w(), a.b(), a.c(), a.c(), a.c(), var, Allocator.host()),
                    "var[2] + epsilon", "not positive");
        }
    }
}
