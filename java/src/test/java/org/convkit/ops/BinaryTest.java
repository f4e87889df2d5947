package org.convkit.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;

import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

class BinaryTest {
    private static List<Shape> shapes(Shape a, Shape b) {
        return List.of(a, b);
    }

    @Test
    void theResNetResidualAddWithRelu() {
        Binary add = Binary.add(Activation.RELU);
        Shape x = Shape.nchw(1, 256, 56, 56);
        List<Shape> in = shapes(x, x);
        assertEquals("add", add.name());
        assertEquals(2, add.arity());
        assertEquals(x, add.outputShape(in));
        assertEquals(List.of(), add.parameterShapes(in));
        assertEquals(0, add.parameterCount(in));
        assertEquals(256L * 56 * 56, add.flops(in), "one add per output; ReLU not counted");
        assertEquals(3L * 256 * 56 * 56 * 4, add.bytesMoved(in, DType.F32), "a, b and y once each");
        assertEquals(0, add.workspaceBytes(in, DType.F32));
        assertEquals("add(a=1x256x56x56,b=1x256x56x56,relu)", add.describe(in));
        assertEquals("add(relu)", add.toString());
    }

    @Test
    void theSqueezeExciteChannelScale() {
        Binary mul = Binary.mul();
        List<Shape> in = shapes(Shape.nchw(2, 256, 56, 56), Shape.nchw(2, 256, 1, 1));
        assertEquals("mul", mul.name());
        assertEquals(Shape.nchw(2, 256, 56, 56), mul.outputShape(in));
        assertEquals(2L * 256 * 56 * 56, mul.flops(in));
        assertEquals((2L * 256 * 56 * 56 * 2 + 2 * 256) * 4, mul.bytesMoved(in, DType.F32));
        assertEquals("mul(a=2x256x56x56,b=2x256x1x1)", mul.describe(in));
    }

    @Test
    void broadcastingFollowsTheOnnxAndNumpyExamples() {
        Binary add = Binary.add();
        // ONNX Broadcasting.md examples.
        assertEquals(Shape.of(2, 3, 4, 5), add.outputShape(Shape.of(2, 3, 4, 5), Shape.of(5)));
        assertEquals(Shape.of(2, 3, 4, 5), add.outputShape(Shape.of(2, 3, 4, 5), Shape.of(4, 5)));
        assertEquals(Shape.of(4, 3, 2), add.outputShape(Shape.of(4, 3, 2), Shape.of(3, 1)));
        assertEquals(Shape.of(2, 3, 4, 5), add.outputShape(Shape.of(1, 3, 1, 5), Shape.of(2, 1, 4, 1)));
        assertEquals(Shape.of(2, 3, 4, 5), add.outputShape(Shape.of(4, 5), Shape.of(2, 3, 1, 1)));
        // numpy's example: 8x1x6x1 with 7x1x5.
        assertEquals(Shape.of(8, 7, 6, 5), add.outputShape(Shape.of(8, 1, 6, 1), Shape.of(7, 1, 5)));
        // ONNX test_add_bcast: [3,4,5] + [5].
        assertEquals(Shape.of(3, 4, 5), add.outputShape(List.of(Shape.of(3, 4, 5), Shape.of(5))));
        assertEquals(Shape.of(1), add.outputShape(Shape.of(1), Shape.of(1)));
    }

    @Test
    void theLayoutCollapsesWhatTheKernelsNeedNotWalk() {
        Binary mul = Binary.mul();
        // Equal shapes: one dimension, both inputs contiguous (the fast path).
        Binary.Layout same = mul.layout(Shape.nchw(2, 3, 4, 5), Shape.nchw(2, 3, 4, 5));
        assertTrue(same.sameShape());
        assertArrayEquals(new long[] {120}, same.dims());
        // A leading 1 in one input changes nothing: [1,5] * [5] is still the fast path.
        assertTrue(mul.layout(Shape.of(1, 5), Shape.of(5)).sameShape());
        // Channel scale: [N*C, H*W] with b walking the rows and repeating along them.
        Binary.Layout se = mul.layout(Shape.nchw(2, 3, 4, 5), Shape.nchw(2, 3, 1, 1));
        assertFalse(se.sameShape());
        assertArrayEquals(new long[] {6, 20}, se.dims());
        assertArrayEquals(new long[] {20, 1}, se.aStrides());
        assertArrayEquals(new long[] {1, 0}, se.bStrides());
        // [3,4,5] + [5]: rows of 5 where b restarts every row.
        Binary.Layout bcast = mul.layout(Shape.of(3, 4, 5), Shape.of(5));
        assertArrayEquals(new long[] {12, 5}, bcast.dims());
        assertArrayEquals(new long[] {5, 1}, bcast.aStrides());
        assertArrayEquals(new long[] {0, 1}, bcast.bStrides());
        // Both inputs broadcast in different dimensions: nothing merges across the switch.
        Binary.Layout outer = mul.layout(Shape.of(8, 1, 6, 1), Shape.of(7, 1, 5));
        assertArrayEquals(new long[] {8, 7, 6, 5}, outer.dims());
        assertArrayEquals(new long[] {6, 0, 1, 0}, outer.aStrides());
        assertArrayEquals(new long[] {0, 5, 0, 1}, outer.bStrides());
        // Size-1 output dimensions are dropped; an all-ones output keeps one dimension.
        assertArrayEquals(new long[] {3, 4}, mul.layout(Shape.of(3, 1, 4), Shape.of(3, 1, 1)).dims());
        assertTrue(mul.layout(Shape.of(1, 1), Shape.of(1)).sameShape(), "one element: the fast path");
    }

    private static void rejects(String op, Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        assertTrue(e.getMessage().startsWith(op + ":"), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void nonBroadcastableShapesAreRejectedNamingBoth() {
        rejects("add", () -> Binary.add().outputShape(shapes(Shape.of(2, 3, 4), Shape.of(5, 4))), "input a 2x3x4",
                "input b 5x4", "dimension 1", "3 in a and 5 in b");
        rejects("mul", () -> Binary.mul().outputShape(shapes(Shape.nchw(1, 256, 56, 56), Shape.nchw(1, 128, 1, 1))),
                "1x256x56x56", "1x128x1x1", "256 in a and 128 in b");
        // Trailing dimensions are aligned, not leading ones: [3,4] with [3] does not broadcast.
        rejects("add", () -> Binary.add().flops(shapes(Shape.of(3, 4), Shape.of(3))), "3x4", "input b 3",
                "4 in a and 3 in b");
        rejects("add", () -> Binary.add().parameterShapes(shapes(Shape.of(3, 4), Shape.of(3))), "not broadcastable");
        rejects("mul", () -> Binary.mul().layout(Shape.of(2, 1, 6), Shape.of(3, 1, 1, 5)), "input a 2x1x6",
                "input b 3x1x1x5", "dimension 3", "6 in a and 5 in b");
    }

    @Test
    void aWrongNumberOfInputsIsRejected() {
        rejects("add", () -> Binary.add().outputShape(List.of(Shape.of(3))), "expected 2 input(s), got 1", "[3]");
        rejects("mul", () -> Binary.mul().outputShape(List.of(Shape.of(3), Shape.of(3), Shape.of(3))),
                "expected 2 input(s), got 3");
    }

    @Test
    void nullSettingsAreRejected() {
        rejects("add", () -> Binary.add(null), "activation");
        rejects("mul", () -> Binary.mul(null), "activation");
        rejects("binary", () -> Binary.of(null, Activation.NONE), "kind");
    }

    @Test
    void equalityFollowsKindAndActivation() {
        assertEquals(Binary.add(), Binary.of(Binary.Kind.ADD, Activation.NONE));
        assertEquals(Binary.add().hashCode(), Binary.of(Binary.Kind.ADD, Activation.NONE).hashCode());
        assertNotEquals(Binary.add(), Binary.mul());
        assertNotEquals(Binary.add(), Binary.add(Activation.RELU));
        assertEquals(0, Binary.Kind.ADD.code());
        assertEquals(1, Binary.Kind.MUL.code());
    }
}
