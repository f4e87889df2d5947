package org.convkit.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;

import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

class ConcatTest {
    @Test
    void theGoogLeNetInceptionOutput() {
        // Inception 3a: 1x1 (64), 3x3 (128), 5x5 (32) and pool-projection (32) branches at 28x28.
        List<Shape> in = List.of(Shape.nchw(1, 64, 28, 28), Shape.nchw(1, 128, 28, 28), Shape.nchw(1, 32, 28, 28),
                Shape.nchw(1, 32, 28, 28));
        Concat cat = Concat.of(1);
        assertEquals("concat", cat.name());
        assertEquals(Shape.nchw(1, 256, 28, 28), cat.outputShape(in));
        assertEquals(List.of(), cat.parameterShapes(in));
        assertEquals(0, cat.flops(in));
        assertEquals(2L * 256 * 28 * 28 * 4, cat.bytesMoved(in, DType.F32), "inputs once, output once");
        assertEquals(0, cat.workspaceBytes(in, DType.F32));
        assertEquals("concat(axis=1,1x64x28x28+1x128x28x28+1x32x28x28+1x32x28x28)", cat.describe(in));
        Concat.Geometry g = cat.geometry(in);
        assertEquals(1, g.axis());
        assertEquals(1, g.outer());
        assertArrayEquals(new long[] {64 * 784, 128 * 784, 32 * 784, 32 * 784}, g.inners());
        assertArrayEquals(new long[] {0, 64 * 784, 192 * 784, 224 * 784}, g.offsets());
        assertEquals(256 * 784, g.outInner());
    }

    @Test
    void everyAxisNegativeOrNotAndOneDimensionalInputs() {
        // ONNX test_concat_1d_axis_0 / _negative_1: [2] ++ [2] = [4].
        assertEquals(Shape.of(4), Concat.of(0).outputShape(List.of(Shape.of(2), Shape.of(2))));
        assertEquals(Shape.of(4), Concat.of(-1).outputShape(List.of(Shape.of(2), Shape.of(2))));
        // ONNX test_concat_3d_axis_*: [2,2,2] ++ [2,2,2] doubles the chosen axis.
        List<Shape> cube = List.of(Shape.of(2, 2, 2), Shape.of(2, 2, 2));
        assertEquals(Shape.of(4, 2, 2), Concat.of(-3).outputShape(cube));
        assertEquals(Shape.of(2, 4, 2), Concat.of(-2).outputShape(cube));
        assertEquals(Shape.of(2, 2, 4), Concat.of(2).outputShape(cube));
        // Last axis of [2,3,4] ++ [2,3,1]: rows of 4 and of 1 interleave.
        Concat.Geometry g = Concat.of(-1).geometry(List.of(Shape.of(2, 3, 4), Shape.of(2, 3, 1)));
        assertEquals(2, g.axis());
        assertEquals(6, g.outer());
        assertArrayEquals(new long[] {4, 1}, g.inners());
        assertArrayEquals(new long[] {0, 4}, g.offsets());
        assertEquals(5, g.outInner());
        // Axis 0: one row per input.
        g = Concat.of(0).geometry(List.of(Shape.of(1, 3), Shape.of(2, 3)));
        assertEquals(1, g.outer());
        assertArrayEquals(new long[] {3, 6}, g.inners());
        assertEquals(Shape.of(3, 3), g.output());
    }

    @Test
    void oneInputIsACopyAndFiveAreFine() {
        assertEquals(Shape.of(3, 4), Concat.of(1).outputShape(List.of(Shape.of(3, 4))));
        List<Shape> five = List.of(Shape.of(1, 2), Shape.of(2, 2), Shape.of(3, 2), Shape.of(4, 2), Shape.of(5, 2));
        assertEquals(Shape.of(15, 2), Concat.of(0).outputShape(five));
        assertEquals(1, Concat.of(0).arity(), "the minimum; concat is variadic");
    }

    private static void rejects(Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        assertTrue(e.getMessage().startsWith("concat:"), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void noInputsAreRejected() {
        rejects(() -> Concat.of(0).outputShape(List.of()), "at least 1 input", "got 0");
    }

    @Test
    void anAxisOutsideTheRankIsRejected() {
        rejects(() -> Concat.of(3).outputShape(List.of(Shape.of(2, 3, 4), Shape.of(2, 3, 4))), "axis 3",
                "[-3, 2]", "rank 3", "2x3x4");
        rejects(() -> Concat.of(-2).outputShape(List.of(Shape.of(5), Shape.of(5))), "axis -2", "[-1, 0]", "rank 1");
    }

    @Test
    void anAxisNoRankAllowsIsRejectedAtConstruction() {
        rejects(() -> Concat.of(8), "axis 8", "[-8, 7]");
        rejects(() -> Concat.of(-9), "axis -9");
    }

    @Test
    void aRankMismatchIsRejectedNamingTheInput() {
        rejects(() -> Concat.of(0).outputShape(List.of(Shape.of(2, 3), Shape.of(2, 3), Shape.of(6))), "input 2 6",
                "rank 1", "input 0 2x3", "rank 2");
    }

    @Test
    void aDimensionMismatchOffTheAxisIsRejectedNamingTheInputAndShapes() {
        rejects(() -> Concat.of(1).outputShape(List.of(Shape.nchw(1, 64, 28, 28), Shape.nchw(1, 32, 14, 28))),
                "input 1 1x32x14x28", "input 0 1x64x28x28", "dimension 2", "14 vs 28", "axis 1");
        rejects(() -> Concat.of(-1).flops(List.of(Shape.of(2, 3), Shape.of(2, 3), Shape.of(3, 3))), "input 2 3x3",
                "dimension 0");
    }

    @Test
    void anOutputAxisTooLongForADimensionIsRejected() {
        int big = 1 << 30;
        rejects(() -> Concat.of(0).outputShape(List.of(Shape.of(big), Shape.of(big))), "2147483648", "axis 0");
    }

    @Test
    void equalityFollowsTheAxis() {
        assertEquals(Concat.of(1), Concat.of(1));
        assertEquals(Concat.of(1).hashCode(), Concat.of(1).hashCode());
        assertNotEquals(Concat.of(1), Concat.of(-3));
        assertEquals("concat(axis=-1)", Concat.of(-1).toString());
    }
}
