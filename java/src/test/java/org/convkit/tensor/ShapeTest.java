package org.convkit.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ShapeTest {
    @Test
    void nchwAccessorsSizesAndText() {
        Shape s = Shape.nchw(50, 3, 200, 300);
        assertEquals(4, s.rank());
        assertEquals(50, s.n());
        assertEquals(3, s.c());
        assertEquals(200, s.h());
        assertEquals(300, s.w());
        assertEquals(9_000_000L, s.elementCount());
        assertEquals(36_000_000L, s.byteSize(DType.F32));
        assertEquals(18_000_000L, s.byteSize(DType.F16));
        assertEquals("50x3x200x300", s.toString());
        assertEquals(300, s.dim(-1));
        assertEquals(Shape.nchw(1, 3, 200, 300), s.withBatch(1));
    }

    @Test
    void equalityIsByDimensionsAndDimsAreCopied() {
        int[] d = {2, 3};
        Shape s = Shape.of(d);
        d[0] = 7;
        assertEquals(Shape.of(2, 3), s);
        assertEquals(Shape.of(2, 3).hashCode(), s.hashCode());
        assertNotEquals(Shape.of(3, 2), s);
        s.dims()[0] = 9;
        assertEquals(2, s.dim(0));
    }

    @Test
    void rejectsNonPositiveDimensionsNamingTheDimension() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.nchw(1, 0, 5, 5));
        assertTrue(e.getMessage().contains("dimension 1") && e.getMessage().contains("[1, 0, 5, 5]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Shape.of(-3));
    }

    @Test
    void rejectsBadRanks() {
        assertThrows(IllegalArgumentException.class, Shape::of);
        assertThrows(IllegalArgumentException.class, () -> Shape.of(1, 1, 1, 1, 1, 1, 1, 1, 1));
    }

    @Test
    void elementCountAndByteSizeOverflowAreRejected() {
        int big = Integer.MAX_VALUE;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(big, big, big));
        assertTrue(e.getMessage().contains("overflows"), e.getMessage());
        // 2^62 elements fit in a long, their f32 bytes do not.
        Shape huge = Shape.of(1 << 30, 1 << 30, 4);
        IllegalArgumentException b = assertThrows(IllegalArgumentException.class, () -> huge.byteSize(DType.F32));
        assertTrue(b.getMessage().contains("byte size"), b.getMessage());
    }

    @Test
    void nchwAccessorsRequireRankFour() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Shape.of(4, 5).c());
        assertTrue(e.getMessage().contains("not NCHW"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> Shape.of(4, 5).dim(2));
    }

    @Test
    void dtypesParseAndSize() {
        assertEquals(DType.F32, DType.parse("float32"));
        assertEquals(DType.F16, DType.parse(" F16 "));
        assertEquals(2, DType.F16.byteSize());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DType.parse("int8"));
        assertTrue(e.getMessage().contains("int8"), e.getMessage());
    }
}
