package org.convkit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;

import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

/** The globalavgpool2d / globalmaxpool2d descriptor. */
class GlobalPool2dTest {
    @Test
    void resNet50Head() {
        GlobalPool2d op = GlobalPool2d.avg();
        Shape in = Shape.nchw(1, 2048, 7, 7);
        assertEquals(Shape.nchw(1, 2048, 1, 1), op.outputShape(List.of(in)));
        assertEquals(List.of(), op.parameterShapes(List.of(in)));
        assertEquals(2048L * 49, op.flops(List.of(in)));
        assertEquals((2048L * 49 + 2048) * 4, op.bytesMoved(List.of(in), DType.F32));
        assertEquals("globalavgpool2d", op.name());
        assertEquals("globalavgpool2d(n=1,c=2048,h=7,w=7)", op.describe(List.of(in)));
    }

    @Test
    void maxModeAndFactories() {
        Shape in = Shape.nchw(4, 3, 5, 9);
        assertEquals(Shape.nchw(4, 3, 1, 1), GlobalPool2d.max().outputShape(in));
        assertEquals("globalmaxpool2d(n=4,c=3,h=5,w=9)", GlobalPool2d.max().describe(in));
        assertSame(GlobalPool2d.max(), GlobalPool2d.of(GlobalPool2d.Mode.MAX));
        assertSame(GlobalPool2d.avg(), GlobalPool2d.of(GlobalPool2d.Mode.AVG));
        assertEquals(GlobalPool2d.Mode.MAX, GlobalPool2d.max().mode());
    }

    private static void rejects(String op, Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        assertTrue(e.getMessage().startsWith(op + ":"), "message '" + e.getMessage() + "' does not start with " + op);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void inputMustBeNchw() {
        rejects("globalavgpool2d", () -> GlobalPool2d.avg().outputShape(Shape.of(2048, 7, 7)), "NCHW", "2048x7x7",
                "rank 3");
        rejects("globalmaxpool2d", () -> GlobalPool2d.max().flops(List.of(Shape.of(1, 8))), "rank 2", "1x8");
    }

    @Test
    void exactlyOneInput() {
        Shape s = Shape.nchw(1, 1, 4, 4);
        rejects("globalmaxpool2d", () -> GlobalPool2d.max().outputShape(List.of(s, s)), "expected 1 input", "got 2");
    }

    @Test
    void modeMustNotBeNull() {
        rejects("globalpool2d", () -> GlobalPool2d.of(null), "mode");
    }
}
