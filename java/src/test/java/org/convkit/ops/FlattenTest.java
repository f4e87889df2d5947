package org.convkit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;

import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

class FlattenTest {
    @Test
    void everyAxisOfTheOnnxExample() {
        // ONNX test_flatten_*: input 2x3x4x5 (120 elements).
        Shape in = Shape.nchw(2, 3, 4, 5);
        Shape[] byAxis = {Shape.of(1, 120), Shape.of(2, 60), Shape.of(6, 20), Shape.of(24, 5), Shape.of(120, 1)};
        for (int axis = 0; axis <= 4; axis++) {
            assertEquals(byAxis[axis], Flatten.axis(axis).outputShape(in), "axis " + axis);
            if (axis < 4) {
                assertEquals(byAxis[axis], Flatten.axis(axis - 4).outputShape(in), "axis " + (axis - 4));
            }
        }
        assertEquals(Shape.of(5, 24), Flatten.DEFAULT.outputShape(Shape.nchw(5, 4, 3, 2)), "default axis 1");
        assertEquals(Shape.of(1, 7), Flatten.axis(0).outputShape(Shape.of(7)));
        assertEquals(Shape.of(7, 1), Flatten.axis(1).outputShape(Shape.of(7)));
    }

    @Test
    void alexNetBetweenConvAndDense() {
        List<Shape> in = List.of(Shape.nchw(1, 256, 6, 6));
        assertEquals(Shape.of(1, 9216), Flatten.DEFAULT.outputShape(in));
        assertEquals(List.of(), Flatten.DEFAULT.parameterShapes(in));
        assertEquals(0, Flatten.DEFAULT.parameterCount(in));
        assertEquals(0, Flatten.DEFAULT.flops(in));
        assertEquals(2L * 9216 * 4, Flatten.DEFAULT.bytesMoved(in, DType.F32));
        assertEquals("flatten(in=1x256x6x6,axis=1)", Flatten.DEFAULT.describe(in));
        assertEquals("flatten", Flatten.DEFAULT.name());
        assertEquals(Flatten.axis(1), Flatten.DEFAULT);
    }

    private static void rejects(Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        assertTrue(e.getMessage().startsWith("flatten: "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void axisOutsideTheInputsRangeIsRejectedNamingTheShape() {
        rejects(() -> Flatten.axis(5).outputShape(Shape.nchw(2, 3, 4, 5)), "axis 5", "[-4, 4]", "2x3x4x5", "rank 4");
        rejects(() -> Flatten.axis(-5).outputShape(Shape.nchw(2, 3, 4, 5)), "axis -5", "[-4, 4]");
        rejects(() -> Flatten.axis(2).outputShape(Shape.of(9)), "axis 2", "[-1, 1]", "input 9");
    }

    @Test
    void axisOutsideEveryPossibleRankIsRejectedAtConstruction() {
        rejects(() -> Flatten.axis(9), "axis 9", "rank at most 8");
        rejects(() -> Flatten.axis(-9), "axis -9");
    }

    @Test
    void wrongNumberOfInputsIsRejected() {
        rejects(() -> Flatten.DEFAULT.outputShape(List.of()), "expected 1 input");
    }
}
