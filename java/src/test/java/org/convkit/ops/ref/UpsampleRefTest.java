package org.convkit.ops.ref;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.convkit.ops.Upsample;
import org.convkit.ops.Upsample.Coordinates;
import org.convkit.ops.Upsample.Mode;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

/** The reference against results worked out by hand (all exact in binary). */
class UpsampleRefTest {
    private static double[] run(Upsample op, Shape in, float... x) {
        return UpsampleRef.forward(op.geometry(in), x).y();
    }

    @Test
    void nearestRepeatsPixels() {
        // ONNX's Upsample example: [[1, 2], [3, 4]], scales 2 x 3.
        double[] y = run(Upsample.builder(Mode.NEAREST).scale(2, 3).build(), Shape.nchw(1, 1, 2, 2), 1, 2, 3, 4);
        assertArrayEquals(new double[] {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}, y, 0);
    }

    @Test
    void nearestWithAFractionalScaleFloorsXOverScale() {
        // 1.5: x / 1.5 for x = 0..5 floors to 0 0 1 2 2 3.
        double[] y = run(Upsample.builder(Mode.NEAREST).scale(1, 1.5f).build(), Shape.nchw(1, 1, 1, 4), 10, 20, 30, 40);
        assertArrayEquals(new double[] {10, 10, 20, 30, 30, 40}, y, 0);
        // 1.1f is slightly above 1.1: 11 / 1.1f = 9.99999978 reads pixel 9, not 10.
        assertEquals(9, UpsampleRef.nearestIndex(11, 20, 22, false, 1.1f));
        // Sized 6 -> 10 (scale 5/3): 5 * 6 / 10 = 3 exactly, which 5 / (10.0 / 6) misses (2.9999999999999996).
        assertEquals(3, UpsampleRef.nearestIndex(5, 6, 10, true, 0));
    }

    @Test
    void bilinearHalfPixelClampsAtTheEdges() {
        // [0, 4] doubled both ways: column sources -0.25, 0.25, 0.75, 1.25 -> 0, 1, 3, 4 (PyTorch
        // align_corners=False); the single row is read by both output rows.
        double[] y = run(Upsample.bilinear(2), Shape.nchw(1, 1, 1, 2), 0, 4);
        assertArrayEquals(new double[] {0, 1, 3, 4, 0, 1, 3, 4}, y, 0);
    }

    @Test
    void bilinearCoordinateTransforms() {
        Shape row = Shape.nchw(1, 1, 1, 2);
        // half_pixel, 1 -> 1 rows and 2 -> 4 columns: [0, 1, 3, 4].
        assertArrayEquals(new double[] {0, 1, 3, 4},
                run(Upsample.builder(Mode.BILINEAR).scale(1, 2).build(), row, 0, 4), 0);
        // asymmetric: sources 0, 0.5, 1, 1.5 -> 0, 2, 4, 4.
        assertArrayEquals(new double[] {0, 2, 4, 4},
                run(Upsample.builder(Mode.BILINEAR).scale(1, 2).coordinates(Coordinates.ASYMMETRIC).build(), row, 0, 4), 0);
        // align_corners to 5 columns: sources 0, 0.25, 0.5, 0.75, 1 -> 0, 1, 2, 3, 4.
        assertArrayEquals(new double[] {0, 1, 2, 3, 4},
                run(Upsample.builder(Mode.BILINEAR).size(1, 5).coordinates(Coordinates.ALIGN_CORNERS).build(), row, 0, 4), 0);
    }

    @Test
    void bilinearMixesRowsAndColumns() {
        // [[0, 4], [8, 12]] asymmetric 2x: row 1 is halfway between the rows, column 1 between the columns.
        double[] y = run(Upsample.builder(Mode.BILINEAR).scale(2).coordinates(Coordinates.ASYMMETRIC).build(),
                Shape.nchw(1, 1, 2, 2), 0, 4, 8, 12);
        assertArrayEquals(new double[] {0, 2, 4, 4, 4, 6, 8, 8, 8, 10, 12, 12, 8, 10, 12, 12}, y, 0);
    }
}
