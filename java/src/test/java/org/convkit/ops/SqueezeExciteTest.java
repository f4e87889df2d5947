package org.convkit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;

import org.convkit.memory.Allocator;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

class SqueezeExciteTest {
    @Test
    void theSeResNet50BlockAt56x56() {
        SqueezeExcite se = SqueezeExcite.of();
        assertEquals(16, se.ratio());
        Shape x = Shape.nchw(1, 256, 56, 56);
        List<Shape> in = List.of(x);
        assertEquals("squeeze_excite", se.name());
        assertEquals(x, se.outputShape(in));
        assertEquals(List.of(Shape.of(16, 256), Shape.of(16), Shape.of(256, 16), Shape.of(256)), se.parameterShapes(in));
        assertEquals(List.of("w1", "b1", "w2", "b2"), se.parameterNames(in));
        assertEquals(16 * 256 + 16 + 256 * 16 + 256, se.parameterCount(in));
        // pool + scale: 2 per element; two dense layers: 2 * 256 * 16 each.
        assertEquals(2L * 256 * 56 * 56 + 4L * 256 * 16, se.flops(in));
        // x twice, parameters and y once.
        long params = 16 * 256 + 16 + 256 * 16 + 256;
        assertEquals((3L * 256 * 56 * 56 + params) * 4, se.bytesMoved(in, DType.F32));
        // pooled [1,256], hidden [1,16], scales [1,256].
        assertEquals((256 + 16 + 256) * 4L, se.workspaceBytes(in, DType.F32));
        assertEquals("squeeze_excite(n=1,c=256,h=56,w=56,r=16,hidden=16)", se.describe(in));
    }

    @Test
    void theWorkspaceHoldsThreeVectorsPerImage() {
        SqueezeExcite.Geometry g = SqueezeExcite.of(16).geometry(Shape.nchw(3, 2048, 7, 7));
        assertEquals(128, g.hidden());
        assertEquals(0, g.pooledOffset());
        assertEquals(3 * 2048, g.hiddenOffset());
        assertEquals(3 * 2048 + 3 * 128, g.scalesOffset());
        assertEquals(3L * (2048 + 128 + 2048), g.workspaceFloats());
        assertEquals(49, g.plane());
    }

    @Test
    void theHiddenSizeRoundsDownButKeepsOneUnit() {
        SqueezeExcite se = SqueezeExcite.of(16);
        assertEquals(16, se.hidden(256));
        assertEquals(2, se.hidden(40), "40 / 16 = 2.5 rounds down");
        assertEquals(1, se.hidden(20));
        assertEquals(1, se.hidden(15), "below the ratio: still one unit");
        assertEquals(1, se.hidden(1));
        assertEquals(7, SqueezeExcite.of(1).hidden(7), "ratio 1 keeps every channel");
        assertEquals(List.of(Shape.of(1, 3), Shape.of(1), Shape.of(3, 1), Shape.of(3)),
                se.parameterShapes(List.of(Shape.nchw(2, 3, 5, 5))));
    }

    @Test
    void parametersStartAsPyTorchLinearLayersDo() {
        SqueezeExcite se = SqueezeExcite.of(4);
        List<Shape> in = List.of(Shape.nchw(1, 64, 3, 3));
        Allocator host = Allocator.root("se init test");
        try (host) {
            List<Shape> ps = se.parameterShapes(in);
            for (int i = 0; i < ps.size(); i++) {
                double bound = 1 / Math.sqrt(i < 2 ? 64 : 16);
                try (Tensor t = Tensor.allocate(ps.get(i), DType.F32, host, "p" + i)) {
                    se.initParameter(in, i, t, 42 + i);
                    float[] v = t.toFloatArray();
                    double max = 0;
                    for (float f : v) {
                        max = Math.max(max, Math.abs(f));
                    }
                    assertTrue(max <= bound && max > bound / 2, "parameter " + i + ": max |v| " + max + ", bound " + bound);
                }
            }
        }
    }

    private static void rejects(Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        assertTrue(e.getMessage().startsWith("squeeze_excite:"), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void aRatioBelowOneIsRejected() {
        rejects(() -> SqueezeExcite.of(0), "ratio", "at least 1", "0");
        rejects(() -> SqueezeExcite.of(-16), "ratio", "-16");
    }

    @Test
    void anInputThatIsNotNchwIsRejected() {
        rejects(() -> SqueezeExcite.of().outputShape(List.of(Shape.of(256, 56, 56))), "NCHW", "256x56x56", "rank 3");
        rejects(() -> SqueezeExcite.of().workspaceBytes(List.of(Shape.of(1, 256)), DType.F32), "NCHW", "1x256");
    }

    @Test
    void aWrongNumberOfInputsIsRejected() {
        rejects(() -> SqueezeExcite.of().outputShape(List.of()), "expected 1 input(s), got 0");
        rejects(() -> SqueezeExcite.of().flops(List.of(Shape.nchw(1, 8, 2, 2), Shape.nchw(1, 8, 1, 1))),
                "expected 1 input(s), got 2");
    }

    @Test
    void equalityFollowsTheRatio() {
        assertEquals(SqueezeExcite.of(), SqueezeExcite.of(16));
        assertEquals(SqueezeExcite.of().hashCode(), SqueezeExcite.of(16).hashCode());
        assertNotEquals(SqueezeExcite.of(8), SqueezeExcite.of(16));
        assertEquals("squeeze_excite(r=8)", SqueezeExcite.of(8).toString());
    }
}
