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
import org.junit.jupiter.api.Test;

class PReluTest {
    @Test
    void perChannelSlopeOnNchw() {
        PRelu p = PRelu.perChannel(64);
        Shape in = Shape.nchw(2, 64, 56, 56);
        List<Shape> ins = List.of(in);
        assertEquals(in, p.outputShape(ins));
        assertEquals(List.of(Shape.of(64, 1, 1)), p.parameterShapes(ins));
        assertEquals(List.of("slope"), p.parameterNames(ins));
        assertEquals(64, p.parameterCount(ins));
        assertEquals(2L * 2 * 64 * 56 * 56, p.flops(ins));
        assertEquals((2L * 2 * 64 * 56 * 56 + 64) * 4, p.bytesMoved(ins, DType.F32));
        assertEquals("prelu(in=2x64x56x56,slope=64x1x1)", p.describe(ins));
        // Innermost first: H*W broadcast, then C indexed with stride 1; N (broadcast, outermost) dropped.
        PRelu.Broadcast b = p.broadcast(in);
        assertArrayEquals(new int[] {56 * 56, 64}, b.dims());
        assertArrayEquals(new int[] {0, 1}, b.strides());
    }

    @Test
    void broadcastGroupsForTheOnnxForms() {
        // test_prelu_broadcast: x 3x4x5, slope [5].
        PRelu.Broadcast last = PRelu.of(Shape.of(5)).broadcast(Shape.of(3, 4, 5));
        assertArrayEquals(new int[] {5}, last.dims());
        assertArrayEquals(new int[] {1}, last.strides());
        // One shared slope: no group at all.
        assertEquals(0, PRelu.shared().broadcast(Shape.nchw(2, 3, 4, 5)).dims().length);
        // The same shape: one group of everything.
        PRelu.Broadcast same = PRelu.of(Shape.of(3, 4, 5)).broadcast(Shape.of(3, 4, 5));
        assertArrayEquals(new int[] {60}, same.dims());
        assertArrayEquals(new int[] {1}, same.strides());
        // Alternating: slope 3x1x5 on 2x3x4x5 -> W indexed, H broadcast, C indexed (stride 5).
        PRelu.Broadcast alt = PRelu.of(Shape.of(3, 1, 5)).broadcast(Shape.nchw(2, 3, 4, 5));
        assertArrayEquals(new int[] {5, 4, 3}, alt.dims());
        assertArrayEquals(new int[] {1, 0, 5}, alt.strides());
        // Element (n=1, c=2, h=3, w=4) reads slope (2, 0, 4) = 2 * 5 + 4.
        assertEquals(14, alt.slopeIndex(((1 * 3 + 2) * 4 + 3) * 5 + 4));
        // Input dimensions of size 1 take no group.
        PRelu.Broadcast ones = PRelu.perChannel(8).broadcast(Shape.nchw(1, 8, 1, 1));
        assertArrayEquals(new int[] {8}, ones.dims());
    }

    @Test
    void slopesInitialiseAroundAQuarter() {
        Allocator a = Allocator.root("prelu test");
        try (Tensor t = Tensor.allocate(Shape.of(64, 1, 1), DType.F32, a, "slope")) {
            PRelu.perChannel(64).initParameter(List.of(Shape.nchw(1, 64, 8, 8)), 0, t, 42);
            for (float v : t.toFloatArray()) {
                assertTrue(v >= 0f && v < 0.5f, "slope " + v);
            }
        } finally {
            a.close();
        }
    }

    private static void rejects(Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        assertTrue(e.getMessage().startsWith("prelu: "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void slopeDimensionsMustBeOneOrEqual() {
        rejects(() -> PRelu.perChannel(3).outputShape(List.of(Shape.nchw(1, 4, 5, 5))),
                "slope shape 3x1x1", "input shape 1x4x5x5", "slope dimension 0 is 3", "input dimension 1 is 4");
        rejects(() -> PRelu.of(Shape.of(4)).outputShape(List.of(Shape.of(3, 4, 5))), "slope shape 4",
                "input shape 3x4x5");
    }

    @Test
    void slopeMustNotHaveMoreDimensionsThanTheInput() {
        rejects(() -> PRelu.of(Shape.of(1, 3, 1, 1)).outputShape(List.of(Shape.of(3, 4, 4))), "slope shape 1x3x1x1",
                "rank 4", "input shape 3x4x4", "rank 3");
    }

    @Test
    void channelsMustBePositive() {
        rejects(() -> PRelu.perChannel(0), "channels", "0");
    }

    @Test
    void slopeShapeMustBeGiven() {
        rejects(() -> PRelu.of(null), "slope shape");
    }

    @Test
    void exactlyOneInput() {
        rejects(() -> PRelu.shared().outputShape(List.of()), "expected 1 input", "got 0");
    }
}
