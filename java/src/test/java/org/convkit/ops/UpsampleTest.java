package org.convkit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;

import org.convkit.ops.Upsample.Coordinates;
import org.convkit.ops.Upsample.Mode;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

class UpsampleTest {
    @Test
    void onnxNearestExampleShapesAndCounts() {
        // ONNX test_upsample_nearest: 2x2, scales 2 (height) and 3 (width) -> 4x6.
        Upsample up = Upsample.builder(Mode.NEAREST).scale(2, 3).build();
        List<Shape> in = List.of(Shape.nchw(1, 1, 2, 2));
        assertEquals(Shape.nchw(1, 1, 4, 6), up.outputShape(in));
        assertEquals(List.of(), up.parameterShapes(in));
        assertEquals(0, up.parameterCount(in));
        assertEquals(0, up.flops(in), "a copy");
        assertEquals((4 + 24) * 4L, up.bytesMoved(in, DType.F32));
        assertEquals(Coordinates.ASYMMETRIC, up.coordinates());
        assertEquals("upsample(n=1,c=1,h=2,w=2,nearest,s=2x3)", up.describe(in));
    }

    @Test
    void bilinearCountsSevenFlopsPerOutput() {
        Upsample up = Upsample.bilinear(2);
        List<Shape> in = List.of(Shape.nchw(1, 21, 16, 16));
        assertEquals(Shape.nchw(1, 21, 32, 32), up.outputShape(in));
        assertEquals(7L * 21 * 32 * 32, up.flops(in));
        assertEquals(Coordinates.HALF_PIXEL, up.coordinates(), "PyTorch align_corners=False by default");
        assertEquals("upsample(n=1,c=21,h=16,w=16,bilinear,s=2,half_pixel)", up.describe(in));
    }

    @Test
    void fractionalScalesRoundTheOutputDown() {
        Shape in = Shape.nchw(1, 1, 5, 10);
        // 5 * 1.5 = 7.5 -> 7; 10 * 1.1f = 11.0000002 -> 11.
        assertEquals(Shape.nchw(1, 1, 7, 11), Upsample.builder(Mode.NEAREST).scale(1.5f, 1.1f).build().outputShape(List.of(in)));
        // 5 * 2.2f = 11.0000005 -> 11; 10 * 3.7f = 37.0000005 -> 37.
        assertEquals(Shape.nchw(1, 1, 11, 37), Upsample.builder(Mode.NEAREST).scale(2.2f, 3.7f).build().outputShape(List.of(in)));
        assertEquals("upsample(n=1,c=1,h=5,w=10,nearest,s=2.2x3.7)",
                Upsample.builder(Mode.NEAREST).scale(2.2f, 3.7f).build().describe(List.of(in)));
    }

    @Test
    void anExplicitSizeIsTheOutput() {
        Upsample up = Upsample.builder(Mode.BILINEAR).size(513, 513).coordinates(Coordinates.ALIGN_CORNERS).build();
        List<Shape> in = List.of(Shape.nchw(1, 21, 65, 65));
        assertEquals(Shape.nchw(1, 21, 513, 513), up.outputShape(in));
        assertTrue(up.geometry(in.get(0)).sized());
        assertEquals("upsample(n=1,c=21,h=65,w=65,bilinear,size=513x513,align_corners)", up.describe(in));
    }

    @Test
    void transformsAreExactRatios() {
        // Nearest 1.5 = 3/2: x_original = 2x / 3, floors 0 0 1 2 2 3 4.
        Upsample.Geometry g = Upsample.builder(Mode.NEAREST).scale(1.5f).build().geometry(Shape.nchw(1, 1, 5, 5));
        assertEquals(new Upsample.Transform(2, 0, 3), g.rows());
        int[] floors = new int[7];
        for (int x = 0; x < 7; x++) {
            floors[x] = g.rows().floor(x);
        }
        assertEquals(List.of(0, 0, 1, 2, 2, 3, 4), java.util.Arrays.stream(floors).boxed().toList());
        // half_pixel 2x: (x + 0.5) / 2 - 0.5 = (2x - 1) / 4, starting at -1/4.
        Upsample.Geometry h = Upsample.bilinear(2).geometry(Shape.nchw(1, 1, 3, 3));
        assertEquals(new Upsample.Transform(2, -1, 4), h.cols());
        assertEquals(-1, h.cols().floor(0));
        // align_corners 5 -> 9: x * 4 / 8 = x / 2.
        Upsample.Geometry a = Upsample.builder(Mode.BILINEAR).size(9, 9).coordinates(Coordinates.ALIGN_CORNERS).build()
                .geometry(Shape.nchw(1, 1, 5, 5));
        assertEquals(new Upsample.Transform(1, 0, 2), a.rows());
        // align_corners by a scale factor uses the unrounded length in * scale (ONNX): 4 * 1.5 - 1 = 5.
        Upsample.Geometry af = Upsample.builder(Mode.BILINEAR).scale(1.5f).coordinates(Coordinates.ALIGN_CORNERS).build()
                .geometry(Shape.nchw(1, 1, 4, 4));
        assertEquals(new Upsample.Transform(3, 0, 5), af.rows());
        // 1.1f is slightly above 1.1, so 11 / 1.1f = 9.99999978: floor 9, where float division rounds to 10.
        Upsample.Geometry d = Upsample.builder(Mode.NEAREST).scale(1.1f).build().geometry(Shape.nchw(1, 1, 20, 20));
        assertEquals(9, d.cols().floor(11));
        assertEquals(10, (int) Math.floor(11f / 1.1f), "what float32 arithmetic would pick");
    }

    private static void rejects(Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
        assertTrue(e.getMessage().startsWith("upsample"), e.getMessage());
    }

    @Test
    void modeAndCoordinatesMustNotBeNull() {
        rejects(() -> Upsample.builder(null).scale(2).build(), "mode");
        rejects(() -> Upsample.builder(Mode.BILINEAR).scale(2).coordinates(null).build(), "coordinates");
    }

    @Test
    void nearestTakesOnlyAsymmetricCoordinates() {
        rejects(() -> Upsample.builder(Mode.NEAREST).scale(2).coordinates(Coordinates.HALF_PIXEL).build(), "nearest",
                "asymmetric", "half_pixel");
        rejects(() -> Upsample.builder(Mode.NEAREST).scale(2).coordinates(Coordinates.ALIGN_CORNERS).build(), "nearest",
                "align_corners");
    }

    @Test
    void scalesMustBeFinite() {
        rejects(() -> Upsample.builder(Mode.NEAREST).scale(Float.NaN, 2).build(), "scaleH", "finite", "NaN");
        rejects(() -> Upsample.builder(Mode.BILINEAR).scale(2, Float.POSITIVE_INFINITY).build(), "scaleW", "finite",
                "Infinity");
    }

    @Test
    void scalesMustBeAtLeastOne() {
        rejects(() -> Upsample.builder(Mode.NEAREST).scale(0.5f, 2).build(), "scaleH 0.5", "at least 1");
        rejects(() -> Upsample.builder(Mode.BILINEAR).scale(2, 0).build(), "scaleW 0", "at least 1");
        rejects(() -> Upsample.builder(Mode.BILINEAR).scale(-2).build(), "scaleH -2");
    }

    @Test
    void scalesAndSizeAreExclusiveAndOneIsNeeded() {
        rejects(() -> Upsample.builder(Mode.NEAREST).scale(2).size(4, 4).build(), "not both", "scale 2x2", "size 4x4");
        rejects(() -> Upsample.builder(Mode.NEAREST).build(), "needs scale factors or an output size");
    }

    @Test
    void sizesMustBePositive() {
        rejects(() -> Upsample.builder(Mode.NEAREST).size(0, 4).build(), "size", "0x4");
    }

    @Test
    void sizesMustNotShrinkTheInput() {
        rejects(() -> Upsample.builder(Mode.BILINEAR).size(8, 3).build().outputShape(List.of(Shape.nchw(1, 2, 5, 5))),
                "output width 3", "input width 5", "1x2x5x5");
    }

    @Test
    void theInputMustBeNchw() {
        rejects(() -> Upsample.nearest(2).outputShape(List.of(Shape.of(2, 5, 5))), "NCHW", "2x5x5", "rank 3");
        rejects(() -> Upsample.nearest(2).outputShape(List.of()), "expected 1 input");
    }

    @Test
    void outputsBeyondIntAreRejectedNotWrapped() {
        rejects(() -> Upsample.nearest(1 << 16).outputShape(List.of(Shape.nchw(1, 1, 1 << 16, 1))), "output height",
                "does not fit in an int");
    }

    @Test
    void coordinatesBeyondExact64BitArithmeticAreRejected() {
        // align_corners with the smallest scale above 1 (1 + 2^-23) on 2^20 + 1 rows: x * (in - 1) * 2^23
        // over in * (2^23 + 1) - 2^23 has no common factor, and mul * out passes 2^63.
        Upsample tiny = Upsample.builder(Mode.BILINEAR).scale(Math.nextUp(1f), 1).coordinates(Coordinates.ALIGN_CORNERS)
                .build();
        rejects(() -> tiny.outputShape(List.of(Shape.nchw(1, 1, (1 << 20) + 1, 1))), "height 1048577 -> 1048577",
                "too large for exact 64-bit coordinates");
    }

    @Test
    void equalityFollowsTheSettings() {
        Upsample a = Upsample.builder(Mode.BILINEAR).scale(1.5f, 2).coordinates(Coordinates.ASYMMETRIC).build();
        assertEquals(a, Upsample.builder(Mode.BILINEAR).scale(1.5f, 2).coordinates(Coordinates.ASYMMETRIC).build());
        assertEquals(a.hashCode(),
                Upsample.builder(Mode.BILINEAR).scale(1.5f, 2).coordinates(Coordinates.ASYMMETRIC).build().hashCode());
        assertNotEquals(a, Upsample.builder(Mode.BILINEAR).scale(1.5f, 2).build());
        assertEquals("upsample(bilinear,s=1.5x2,asymmetric)", a.toString());
        assertEquals("upsample", a.name());
    }
}
