package org.convkit.ops.ref;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

/** The reference against results worked out by hand (small integers: exact in any precision). */
class Conv2dRefTest {
    private static float[] iota(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i;
        }
        return v;
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }

    @Test
    void sameOnAThreeByThreeImageSumsEachNeighbourhood() {
        // x = 1..9 row-major, all-ones 3x3 kernel: each output is the sum of the in-image neighbours.
        float[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        Conv2d conv = Conv2d.builder(1).kernel(3).padding(Padding.SAME).bias(false).build();
        var y = Conv2dRef.forward(conv.geometry(Shape.nchw(1, 1, 3, 3)), x, ones(9), null).y();
        assertArrayEquals(new double[] {12, 21, 16, 27, 45, 33, 24, 39, 28}, y, 0);
    }

    @Test
    void stridedValidConvolutionMatchesTheWorkedExample() {
        // x = 0..34 as 7 rows of 5, all-ones 3x3 kernel, stride 2, no padding: a 3x2 output whose
        // element (i, j) sums rows 2i..2i+2, columns 2j..2j+2; (0, 0) = 3 + 18 + 33.
        Conv2d conv = Conv2d.builder(1).kernel(3).stride(2).bias(false).build();
        var y = Conv2dRef.forward(conv.geometry(Shape.nchw(1, 1, 7, 5)), iota(35), ones(9), null).y();
        assertArrayEquals(new double[] {54, 72, 144, 162, 234, 252}, y, 0);
    }

    @Test
    void groupsReadOnlyTheirOwnChannelsAndBiasAndReluApply() {
        // Two groups of one channel each: output 0 sees channel 0 only, output 1 channel 1 only.
        float[] x = {1, 2, 3, 4, /* channel 1 */ 10, 20, 30, 40};
        float[] w = {1, /* group 1 */ -1};
        float[] b = {0.5f, 5f};
        Conv2d conv = Conv2d.builder(2).groups(2).activation(org.convkit.ops.Activation.RELU).build();
        var y = Conv2dRef.forward(conv.geometry(Shape.nchw(1, 2, 2, 2)), x, w, b).y();
        assertArrayEquals(new double[] {1.5, 2.5, 3.5, 4.5, 0, 0, 0, 0}, y, 0);
    }

    @Test
    void dilationSpreadsTheTapsAndExplicitPadsShiftTheWindow() {
        // 1x5 row 0..4, kernel [1, 1] dilated by 2 reads x[i] + x[i+2]; one zero pad on the left.
        Conv2d conv = Conv2d.builder(1).kernel(1, 2).dilation(1, 2).padding(Padding.explicit(0, 1, 0, 0)).bias(false).build();
        var y = Conv2dRef.forward(conv.geometry(Shape.nchw(1, 1, 1, 5)), iota(5), ones(2), null).y();
        // Windows start at -1, 0, 1, 2: (0 + 1), (0 + 2), (1 + 3), (2 + 4).
        assertArrayEquals(new double[] {1, 2, 4, 6}, y, 0);
    }
}
