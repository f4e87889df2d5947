package org.convkit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;

import org.convkit.ops.grad.Gradient;
import org.convkit.ops.grad.SoftmaxCrossEntropyGrad;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

class SoftmaxCrossEntropyTest {
    @Test
    void aClassifierLossIsTwoRowsPerBatchAndItsGradientReadsLogitsAndLabels() {
        SoftmaxCrossEntropy loss = SoftmaxCrossEntropy.INSTANCE;
        List<Shape> in = List.of(Shape.of(64, 10), Shape.of(64));
        assertEquals(Shape.of(2, 64), loss.outputShape(in));
        assertEquals(List.of(), loss.parameterShapes(in));
        assertEquals(4L * 640 + 2 * 64, loss.flops(in));
        assertEquals("softmax_cross_entropy(logits=64x10,labels=64)", loss.describe(in));
        assertEquals(new SoftmaxCrossEntropy.Geometry(64, 10, 1), SoftmaxCrossEntropy.geometry("t", in.get(0), in.get(1)));
        List<Gradient> g = loss.gradients(in);
        assertEquals(1, g.size(), "the labels have no gradient");
        assertEquals(Gradient.Wrt.INPUT, g.get(0).wrt());
        assertEquals(0, g.get(0).index());
        assertEquals(List.of(Gradient.Operand.input(0), Gradient.Operand.input(1)), g.get(0).operands());
        assertEquals(Shape.of(64, 10), g.get(0).op().outputShape(in));
        assertEquals(6L * 640, g.get(0).op().flops(in));
        assertEquals(1f / 64, SoftmaxCrossEntropyGrad.scale(Shape.of(64, 10)));
        assertFalse(loss.backwardReadsOutput());
    }

    @Test
    void perPixelLabelsDropTheClassAxis() {
        Shape logits = Shape.nchw(50, 400, 25, 38);
        assertEquals(Shape.of(50, 25, 38), SoftmaxCrossEntropy.labelsShape(logits));
        assertEquals(Shape.of(2, 50 * 25 * 38), SoftmaxCrossEntropy.INSTANCE.outputShape(List.of(logits,
                Shape.of(50, 25, 38))));
        assertEquals(1f / (50 * 25 * 38), SoftmaxCrossEntropyGrad.scale(logits));
        assertEquals(950, SoftmaxCrossEntropy.geometry("t", logits, Shape.of(50, 25, 38)).inner());
    }

    private static void rejects(Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void labelsMustBeTheLogitsShapeWithoutTheClassAxis() {
        SoftmaxCrossEntropy loss = SoftmaxCrossEntropy.INSTANCE;
        rejects(() -> loss.outputShape(List.of(Shape.of(8, 10), Shape.of(10))), "softmax_cross_entropy: labels", "8x10",
                "got 10");
        rejects(() -> loss.outputShape(List.of(Shape.of(10), Shape.of(10))), "softmax_cross_entropy", "rank 2", "10");
        rejects(() -> loss.outputShape(List.of(Shape.of(8, 10))), "softmax_cross_entropy", "2 input(s)");
        rejects(() -> SoftmaxCrossEntropyGrad.INSTANCE.outputShape(List.of(Shape.nchw(2, 3, 4, 5), Shape.of(2, 3, 4))),
                "softmax_cross_entropy_grad: labels", "2x4x5");
    }
}
