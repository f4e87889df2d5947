package org.convkit.ops.ref;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.convkit.ops.Activation;
import org.convkit.ops.Binary;
import org.convkit.ops.SqueezeExcite;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

/** BinaryRef, ConcatRef and SqueezeExciteRef against results worked out by hand. */
class EltwiseRefsTest {
    private static float[] iota(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i;
        }
        return v;
    }

    @Test
    void binaryBroadcastsARowAColumnAndAChannelScale() {
        // [2,3] + [3]: the row 10,20,30 is added to each row of 0..5.
        var y = BinaryRef.forward(Binary.Kind.ADD, Activation.NONE, Shape.of(2, 3), iota(6), Shape.of(3),
                new float[] {10, 20, 30}).y();
        assertArrayEquals(new double[] {10, 21, 32, 13, 24, 35}, y, 0);
        // [2,1] * [1,3]: an outer product of (1, 2) and (3, 4, 5).
        y = BinaryRef.forward(Binary.Kind.MUL, Activation.NONE, Shape.of(2, 1), new float[] {1, 2}, Shape.of(1, 3),
                new float[] {3, 4, 5}).y();
        assertArrayEquals(new double[] {3, 4, 5, 6, 8, 10}, y, 0);
        // [1,2,2,2] * [1,2,1,1]: channel 0 scaled by -1, channel 1 by 10; then ReLU.
        y = BinaryRef.forward(Binary.Kind.MUL, Activation.RELU, Shape.nchw(1, 2, 2, 2), iota(8), Shape.nchw(1, 2, 1, 1),
                new float[] {-1, 10}).y();
        assertArrayEquals(new double[] {0, 0, 0, 0, 40, 50, 60, 70}, y, 0);
        // The smaller input may come first: [3] + [2,3].
        y = BinaryRef.forward(Binary.Kind.ADD, Activation.NONE, Shape.of(3), new float[] {10, 20, 30}, Shape.of(2, 3),
                iota(6)).y();
        assertArrayEquals(new double[] {10, 21, 32, 13, 24, 35}, y, 0);
    }

    @Test
    void concatPlacesEachInputAlongTheAxis() {
        // 1-D: [0,1] ++ [0,1,2].
        var y = ConcatRef.forward(0, List.of(Shape.of(2), Shape.of(3)), List.of(iota(2), iota(3))).y();
        assertArrayEquals(new double[] {0, 1, 0, 1, 2}, y, 0);
        // [2,2] ++ [2,1] on axis -1 (= 1): each row gets its extra column.
        y = ConcatRef.forward(-1, List.of(Shape.of(2, 2), Shape.of(2, 1)), List.of(iota(4), new float[] {10, 11})).y();
        assertArrayEquals(new double[] {0, 1, 10, 2, 3, 11}, y, 0);
        // [1,2] ++ [2,2] on axis 0: rows stacked.
        y = ConcatRef.forward(0, List.of(Shape.of(1, 2), Shape.of(2, 2)), List.of(new float[] {7, 8}, iota(4))).y();
        assertArrayEquals(new double[] {7, 8, 0, 1, 2, 3}, y, 0);
        // [1,2,1,2] ++ [1,1,1,2] ++ [1,1,1,2] on channels.
        y = ConcatRef.forward(1, List.of(Shape.nchw(1, 2, 1, 2), Shape.nchw(1, 1, 1, 2), Shape.nchw(1, 1, 1, 2)),
                List.of(iota(4), new float[] {5, 6}, new float[] {8, 9})).y();
        assertArrayEquals(new double[] {0, 1, 2, 3, 5, 6, 8, 9}, y, 0);
    }

    @Test
    void squeezeExciteFollowsTheFormulaStepByStep() {
        // C = 2, r = 2: one hidden unit. x: channel 0 = 1,2,3,4 (mean 2.5), channel 1 = 0,0,0,-4 (mean -1).
        SqueezeExcite se = SqueezeExcite.of(2);
        SqueezeExcite.Geometry g = se.geometry(Shape.nchw(1, 2, 2, 2));
        assertEquals(1, g.hidden());
        float[] x = {1, 2, 3, 4, 0, 0, 0, -4};
        float[] w1 = {2, 1}; // h = relu(2 * 2.5 + 1 * -1 + b1) = relu(4 - 0.5) = 3.5
        float[] b1 = {-0.5f};
        float[] w2 = {1, -1}; // z = (3.5 + b2_0, -3.5 + b2_1) = (0, 0): both scales are sigmoid(0) = 1/2
        float[] b2 = {-3.5f, 3.5f};
        var r = SqueezeExciteRef.forward(g, x, w1, b1, w2, b2);
        assertArrayEquals(new double[] {2.5, -1}, r.pooled(), 0);
        assertArrayEquals(new double[] {3.5}, r.hidden(), 0);
        assertArrayEquals(new double[] {0.5, 0.5}, r.scales(), 0);
        assertArrayEquals(new double[] {0.5, 1, 1.5, 2, 0, 0, 0, -2}, r.y(), 0);
        // A negative pre-activation is cut by ReLU: then z = b2 and s = sigmoid(b2).
        var cut = SqueezeExciteRef.forward(g, x, w1, new float[] {-10}, w2, new float[] {0, 1});
        assertArrayEquals(new double[] {0}, cut.hidden(), 0);
        assertEquals(1 / (1 + Math.exp(-1)), cut.scales()[1], 1e-15);
    }
}
