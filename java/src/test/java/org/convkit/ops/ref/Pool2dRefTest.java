package org.convkit.ops.ref;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.convkit.ops.GlobalPool2d;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

/**
 * The pooling references against the worked examples of the ONNX operator documentation (the
 * {@code *_precomputed_*}, ceil and dilation node tests: inputs 1..25 or 1..16, outputs small
 * enough to check by hand), so that the oracle of every consistency test is itself checked.
 */
class Pool2dRefTest {
    /** 1, 2, ..., n. */
    private static float[] ramp(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = i + 1;
        }
        return x;
    }

    private static double[] pool(Pool2d op, Shape in, float[] x) {
        Pool2dRef.Result r = Pool2dRef.forward(op.geometry(in), x);
        assertEquals(op.outputShape(in).elementCount(), r.y().length);
        return r.y();
    }

    private static final Shape FIVE = Shape.nchw(1, 1, 5, 5);
    private static final Shape FOUR = Shape.nchw(1, 1, 4, 4);

    @Test
    void maxPoolWorkedExamples() {
        // test_maxpool_2d_precomputed_strides: 2x2 windows 2 apart; row 5 and column 5 are left out.
        assertArrayEquals(new double[] {7, 9, 17, 19}, pool(Pool2d.max(2).stride(2).build(), FIVE, ramp(25)));
        // test_maxpool_2d_precomputed_pads: 5x5 windows, pads 2: the bottom-right element of each clipped window.
        assertArrayEquals(new double[] {13, 14, 15, 15, 15, 18, 19, 20, 20, 20, 23, 24, 25, 25, 25, 23, 24, 25, 25, 25,
                23, 24, 25, 25, 25}, pool(Pool2d.max(5).padding(Padding.explicit(2)).build(), FIVE, ramp(25)));
        // test_maxpool_2d_precomputed_same_upper: 5 -> 3, total pad 2, one on each side.
        assertArrayEquals(new double[] {7, 9, 10, 17, 19, 20, 22, 24, 25},
                pool(Pool2d.max(3).stride(2).padding(Padding.SAME).build(), FIVE, ramp(25)));
        // test_maxpool_2d_ceil: 4 -> 2; the second window reads rows/columns 2..3 only.
        assertArrayEquals(new double[] {11, 12, 15, 16}, pool(Pool2d.max(3).stride(2).ceilMode(true).build(), FOUR, ramp(16)));
        // test_maxpool_2d_ceil_output_size_reduce_by_one: the second window would start past the input.
        assertArrayEquals(new double[] {1}, pool(Pool2d.max(1).stride(2).ceilMode(true).build(), Shape.nchw(1, 1, 2, 2),
                ramp(4)));
        // test_maxpool_2d_dilations: taps {0, 2} and {1, 3}.
        assertArrayEquals(new double[] {11, 12, 15, 16}, pool(Pool2d.max(2).dilation(2).build(), FOUR, ramp(16)));
    }

    @Test
    void averagePoolWorkedExamples() {
        // test_averagepool_2d_precomputed_strides
        assertArrayEquals(new double[] {4, 6, 14, 16}, pool(Pool2d.avg(2).stride(2).build(), FIVE, ramp(25)));
        // test_averagepool_2d_precomputed_pads: padding excluded from the divisor.
        assertArrayEquals(new double[] {7, 7.5, 8, 8.5, 9, 9.5, 10, 10.5, 11, 11.5, 12, 12.5, 13, 13.5, 14, 14.5, 15,
                15.5, 16, 16.5, 17, 17.5, 18, 18.5, 19}, pool(Pool2d.avg(5).padding(Padding.explicit(2)).build(), FIVE,
                ramp(25)), 1e-12);
        // test_averagepool_2d_precomputed_pads_count_include_pad: always divided by 25, e.g. 63 / 25 = 2.52.
        assertArrayEquals(new double[] {2.52, 3.6, 4.8, 4.08, 3.24, 4.56, 6.4, 8.4, 7.04, 5.52, 7.2, 10, 13, 10.8, 8.4,
                6.96, 9.6, 12.4, 10.24, 7.92, 6.12, 8.4, 10.8, 8.88, 6.84},
                pool(Pool2d.avg(5).padding(Padding.explicit(2)).countIncludePad(true).build(), FIVE, ramp(25)), 1e-12);
        // test_averagepool_2d_precomputed_same_upper: (1+2+6+7)/4 = 4 at the corner, padding excluded.
        assertArrayEquals(new double[] {4, 5.5, 7, 11.5, 13, 14.5, 19, 20.5, 22},
                pool(Pool2d.avg(3).stride(2).padding(Padding.SAME).build(), FIVE, ramp(25)), 1e-12);
        // test_averagepool_2d_ceil: the overhanging window averages the 2x2, 2x3 or 3x2 elements it reads.
        assertArrayEquals(new double[] {6, 7.5, 12, 13.5}, pool(Pool2d.avg(3).stride(2).ceilMode(true).build(), FOUR,
                ramp(16)), 1e-12);
        // test_averagepool_2d_dilations (ceil_mode set, no effect here).
        assertArrayEquals(new double[] {6, 7, 10, 11}, pool(Pool2d.avg(2).dilation(2).ceilMode(true).build(), FOUR,
                ramp(16)), 1e-12);
    }

    @Test
    void averageOfTheLastCeilWindowCountsPaddingButNotTheOverhang() {
        // test_averagepool_2d_ceil_last_window_starts_on_pad: 2x2 inputs, 3x3 windows 3 apart, pads 1,
        // ceil: the second window would start on the bottom/right pad and is dropped; the first
        // covers the whole 2x2 plane plus 5 padded taps: sum / 9. Expected values as ONNX stores them (4 decimals).
        float[] x = {0.858f, 0.0786f, 0.2692f, 0.1537f, 0.8816f, 0.4353f, 0.5772f, 0.6623f, 0.9067f, 0.9483f, 0.597f,
                0.763f};
        Pool2d op = Pool2d.avg(3).stride(3).padding(Padding.explicit(1)).ceilMode(true).countIncludePad(true).build();
        assertArrayEquals(new double[] {0.1511, 0.2841, 0.3572}, pool(op, Shape.nchw(1, 3, 2, 2), x), 1e-4);
        // Overhang never counts: 4 wide, 3-wide windows 2 apart, pad 1 each side, ceil: windows start at
        // -1, 1, 3; the last reads column 3, counts pad column 4, and overhangs column 5.
        Pool2d over = Pool2d.avg(1, 3).stride(1, 2).padding(Padding.explicit(0, 1, 0, 1)).ceilMode(true)
                .countIncludePad(true).build();
        assertArrayEquals(new double[] {(1 + 2) / 3.0, (2 + 3 + 4) / 3.0, 4 / 2.0}, pool(over, Shape.nchw(1, 1, 1, 4),
                ramp(4)), 1e-12);
    }

    @Test
    void scalesAndNaN() {
        float[] x = {1, -2, 3, Float.NaN};
        Pool2dRef.Result avg = Pool2dRef.forward(Pool2d.avg(1, 2).build().geometry(Shape.nchw(1, 1, 2, 2)), x);
        assertEquals(-0.5, avg.y()[0]);
        assertEquals(1.5, avg.scale()[0], "mean of |terms|");
        assertTrue(Double.isNaN(avg.y()[1]));
        Pool2dRef.Result max = Pool2dRef.forward(Pool2d.max(1, 2).build().geometry(Shape.nchw(1, 1, 2, 2)), x);
        assertEquals(1, max.y()[0]);
        assertTrue(Double.isNaN(max.y()[1]), "NaN wins a maximum");
    }

    @Test
    void globalPoolWorkedExamples() {
        Shape in = Shape.nchw(1, 1, 3, 3);
        // test_globalaveragepool_precomputed and test_globalmaxpool_precomputed.
        assertArrayEquals(new double[] {5}, GlobalPool2dRef.forward(GlobalPool2d.Mode.AVG, in, ramp(9)).y());
        assertArrayEquals(new double[] {9}, GlobalPool2dRef.forward(GlobalPool2d.Mode.MAX, in, ramp(9)).y());
        float[] two = {1, -3, 2, Float.NaN};
        GlobalPool2dRef.Result r = GlobalPool2dRef.forward(GlobalPool2d.Mode.AVG, Shape.nchw(1, 2, 1, 2), two);
        assertEquals(-1, r.y()[0]);
        assertEquals(2, r.scale()[0]);
        assertTrue(Double.isNaN(r.y()[1]));
        assertTrue(Double.isNaN(GlobalPool2dRef.forward(GlobalPool2d.Mode.MAX, Shape.nchw(1, 2, 1, 2), two).y()[1]));
    }
}
