package org.convkit.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.convkit.memory.Allocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TensorTest {
    private final Allocator alloc = Allocator.root("tensor test");

    @AfterEach
    void noLeaks() {
        assertEquals(0, alloc.liveBytes(), alloc::tree);
        alloc.close();
    }

    @Test
    void memoryIsPageAlignedZeroedAndAccounted() {
        try (Tensor t = Tensor.allocate(Shape.nchw(1, 3, 5, 7), DType.F32, alloc, "x")) {
            assertEquals(0, t.segment().address() % Tensor.ALIGNMENT);
            assertEquals(105 * 4, t.byteSize());
            assertEquals(105 * 4, alloc.liveBytes());
            for (long i = 0; i < t.elementCount(); i++) {
                assertEquals(0f, t.get(i));
            }
        }
        assertEquals(0, alloc.liveBytes());
        assertEquals(420, alloc.peakBytes());
    }

    @Test
    void nchwIndexingAndCopies() {
        float[] v = new float[2 * 3 * 4 * 5];
        for (int i = 0; i < v.length; i++) {
            v[i] = i * 0.5f;
        }
        try (Tensor t = Tensor.of(Shape.nchw(2, 3, 4, 5), v, alloc, "t");
                Tensor u = Tensor.allocate(t.shape(), DType.F32, alloc, "u")) {
            assertEquals(v[((1 * 3 + 2) * 4 + 3) * 5 + 4], t.get(1, 2, 3, 4));
            u.copyFrom(t);
            assertEquals(0.0, Compare.maxRelativeDifference(u, t));
            u.set(7, 1000f);
            assertTrue(Compare.maxRelativeDifference(u, t) > 0.9);
            u.set(8, Float.NaN);
            assertTrue(Double.isNaN(Compare.maxRelativeDifference(u, t)), "NaN never passes a comparison");
        }
    }

    @Test
    void f16StoresHalfPrecision() {
        try (Tensor t = Tensor.allocate(Shape.of(3), DType.F16, alloc, "h")) {
            assertEquals(6, t.byteSize());
            t.set(0, 1.0f / 3);
            t.set(1, 65504f);
            assertEquals(0.333251953125f, t.get(0));
            assertEquals(65504f, t.get(1));
        }
    }

    @Test
    void fillUniformIsReproducibleAndInRange() {
        try (Tensor a = Tensor.allocate(Shape.of(1000), DType.F32, alloc, "a").fillUniform(7, -1f, 1f);
                Tensor b = Tensor.allocate(Shape.of(1000), DType.F32, alloc, "b").fillUniform(7, -1f, 1f)) {
            assertEquals(0.0, Compare.maxRelativeDifference(a, b));
            boolean nonZero = false;
            for (int i = 0; i < 1000; i++) {
                assertTrue(a.get(i) >= -1f && a.get(i) < 1f);
                nonZero |= a.get(i) != 0f;
            }
            assertTrue(nonZero);
        }
    }

    @Test
    void closedTensorsRefuseAccessAndCloseTwiceIsHarmless() {
        Tensor t = Tensor.allocate(Shape.of(4), DType.F32, alloc, "gone");
        t.close();
        t.close();
        assertTrue(t.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.get(0));
        assertTrue(e.getMessage().contains("gone") && e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, t::segment);
    }

    @Test
    void mismatchedValuesAndCopiesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.of(Shape.of(2, 2), new float[3], alloc, "bad"));
        assertTrue(e.getMessage().contains("3 values") && e.getMessage().contains("2x2"), e.getMessage());
        try (Tensor a = Tensor.allocate(Shape.of(4), DType.F32, alloc, "a");
                Tensor b = Tensor.allocate(Shape.of(2, 2), DType.F32, alloc, "b")) {
            assertThrows(IllegalArgumentException.class, () -> a.copyFrom(b));
            assertFalse(a.isClosed());
        }
    }
}
