package org.convkit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;

import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

class SoftmaxTest {
    @Test
    void classifierOutputShapesFlopsAndDescription() {
        Softmax s = Softmax.lastAxis();
        List<Shape> in = List.of(Shape.of(64, 1000));
        assertEquals(Shape.of(64, 1000), s.outputShape(in));
        assertEquals(List.of(), s.parameterShapes(in));
        assertEquals(5L * 64 * 1000, s.flops(in));
        assertEquals(2L * 64 * 1000 * 4, s.bytesMoved(in, DType.F32));
        assertEquals("softmax(in=64x1000,axis=-1)", s.describe(in));
        assertEquals(new Softmax.Geometry(1, 64, 1000, 1), s.geometry(Shape.of(64, 1000)));
        assertEquals(64, s.geometry(Shape.of(64, 1000)).rows());
    }

    @Test
    void everyAxisIsResolvedOnItsOwnNotFlattened() {
        Shape x = Shape.of(3, 4, 5);
        // Opset 13: only the axis is reduced: outer = dims before, inner = dims after.
        assertEquals(new Softmax.Geometry(0, 1, 3, 20), Softmax.of(0).geometry(x));
        assertEquals(new Softmax.Geometry(1, 3, 4, 5), Softmax.of(1).geometry(x));
        assertEquals(new Softmax.Geometry(2, 12, 5, 1), Softmax.of(2).geometry(x));
        assertEquals(Softmax.of(1).geometry(x), Softmax.of(-2).geometry(x));
        assertEquals(Softmax.of(0).geometry(x), Softmax.of(-3).geometry(x));
        assertEquals(15, Softmax.of(1).geometry(x).rows());
        assertEquals(Softmax.lastAxis(), Softmax.of(-1));
        assertNotEquals(Softmax.of(1), Softmax.of(-2), "the axis is kept as given");
        assertEquals(-1, Softmax.lastAxis().axis());
        assertEquals("softmax(axis=1)", Softmax.of(1).toString());
    }

    private static void rejects(Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        assertTrue(e.getMessage().startsWith("softmax: "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void axisMustExistInTheInput() {
        rejects(() -> Softmax.of(3).outputShape(List.of(Shape.of(3, 4, 5))), "axis 3", "3x4x5", "rank 3", "-3 to 2");
        rejects(() -> Softmax.of(-4).outputShape(List.of(Shape.of(3, 4, 5))), "axis -4", "3x4x5");
        rejects(() -> Softmax.of(1).outputShape(List.of(Shape.of(10))), "axis 1", "shape 10", "rank 1");
    }

    @Test
    void axisMustBeWithinTheLargestRank() {
        rejects(() -> Softmax.of(8), "axis", "[-8, 7]", "8");
        rejects(() -> Softmax.of(-9), "axis", "-9");
    }

    @Test
    void exactlyOneInput() {
        rejects(() -> Softmax.lastAxis().outputShape(List.of()), "expected 1 input", "got 0");
    }
}
