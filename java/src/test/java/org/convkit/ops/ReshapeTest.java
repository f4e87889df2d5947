package org.convkit.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;

import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

class ReshapeTest {
    @Test
    void targetsWithZerosAndAnInferredDimension() {
        Shape in = Shape.of(2, 3, 4);
        assertEquals(Shape.of(4, 2, 3), Reshape.to(4, 2, 3).outputShape(in), "ONNX test_reshape_reordered_all_dims");
        assertEquals(Shape.of(24), Reshape.to(-1).outputShape(in));
        assertEquals(Shape.of(2, 12), Reshape.to(0, -1).outputShape(in));
        assertEquals(Shape.of(2, 3, 4), Reshape.to(0, 0, 0).outputShape(in));
        assertEquals(Shape.of(2, 3, 2, 2), Reshape.to(0, 0, -1, 2).outputShape(in));
        assertEquals(Shape.of(1, 24, 1), Reshape.to(1, -1, 1).outputShape(in));
        // A dense layer's output back to a 1x1 feature map (fully convolutional, seed section 7).
        assertEquals(Shape.nchw(1, 4096, 1, 1), Reshape.to(0, 0, 1, 1).outputShape(Shape.of(1, 4096)));
    }

    @Test
    void countsAndDescription() {
        Reshape r = Reshape.to(0, -1);
        List<Shape> in = List.of(Shape.nchw(1, 256, 6, 6));
        assertEquals(Shape.of(1, 9216), r.outputShape(in));
        assertEquals(List.of(), r.parameterShapes(in));
        assertEquals(0, r.flops(in));
        assertEquals(2L * 9216 * 4, r.bytesMoved(in, DType.F32));
        assertEquals("reshape(in=1x256x6x6,to=[0,-1])", r.describe(in));
        assertEquals("reshape", r.name());
        assertArrayEquals(new int[] {0, -1}, r.target());
        assertEquals(Reshape.to(0, -1), r);
    }

    private static void rejects(Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        assertTrue(e.getMessage().startsWith("reshape: "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void emptyOrTooLongTargetIsRejected() {
        rejects(() -> Reshape.to(), "target shape []", "rank 1..8", "got 0");
        rejects(() -> Reshape.to(1, 1, 1, 1, 1, 1, 1, 1, 1), "rank 1..8", "got 9");
    }

    @Test
    void entriesBelowMinusOneAreRejected() {
        rejects(() -> Reshape.to(2, -2), "target shape [2, -2]", "-2 at index 1");
    }

    @Test
    void moreThanOneInferredDimensionIsRejected() {
        rejects(() -> Reshape.to(-1, 3, -1), "[-1, 3, -1]", "indices 0 and 2", "at most one");
    }

    @Test
    void zeroBeyondTheInputsRankIsRejected() {
        rejects(() -> Reshape.to(0, 0, 0).outputShape(Shape.of(6, 4)), "0 at index 2", "input 6x4", "rank 2");
    }

    @Test
    void elementCountMismatchIsRejectedNamingBothShapes() {
        rejects(() -> Reshape.to(5, 5).outputShape(Shape.of(2, 3, 4)), "input 2x3x4 (24 elements)", "[5, 5]",
                "25 elements");
        rejects(() -> Reshape.to(0, 5).outputShape(Shape.of(2, 3, 4)), "resolved [2, 5]", "10 elements");
        rejects(() -> Reshape.to(1 << 30, 1 << 30, 8).outputShape(Shape.of(2, 3, 4)), "2^63 or more");
    }

    @Test
    void anInferredDimensionThatDoesNotDivideIsRejected() {
        rejects(() -> Reshape.to(5, -1).outputShape(Shape.of(2, 3, 4)), "input 2x3x4 (24 elements)", "[5, -1]",
                "not a multiple of 5", "-1 cannot be inferred");
    }

    @Test
    void wrongNumberOfInputsIsRejected() {
        rejects(() -> Reshape.to(-1).outputShape(List.of()), "expected 1 input");
    }
}
