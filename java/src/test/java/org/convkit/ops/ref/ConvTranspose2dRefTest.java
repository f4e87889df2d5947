package org.convkit.ops.ref;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.convkit.ops.Activation;
import org.convkit.ops.ConvTranspose2d;
import org.convkit.ops.Padding;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

/** The reference against results worked out by hand (small integers: exact in any precision). */
class ConvTranspose2dRefTest {
    private static double[] run(ConvTranspose2d op, Shape in, float[] x, float[] w, float[] b) {
        return ConvTranspose2dRef.forward(op.geometry(in), x, w, b).y();
    }

    @Test
    void strideSpreadsTheInputAndEachPixelStampsTheKernel() {
        // Row [1, 2, 3], kernel [1, 10], stride 2: each pixel writes itself and 10x itself, side by side.
        ConvTranspose2d op = ConvTranspose2d.builder(1).kernel(1, 2).stride(1, 2).bias(false).build();
        double[] y = run(op, Shape.nchw(1, 1, 1, 3), new float[] {1, 2, 3}, new float[] {1, 10}, null);
        assertArrayEquals(new double[] {1, 10, 2, 20, 3, 30}, y, 0);
    }

    @Test
    void overlappingStampsAdd() {
        // Stride 1, kernel [1, 1]: outputs 1, 1 + 2, 2 + 3, 3.
        ConvTranspose2d op = ConvTranspose2d.builder(1).kernel(1, 2).bias(false).build();
        double[] y = run(op, Shape.nchw(1, 1, 1, 3), new float[] {1, 2, 3}, new float[] {1, 1}, null);
        assertArrayEquals(new double[] {1, 3, 5, 3}, y, 0);
    }

    @Test
    void padsCropThenBiasAndReluApply() {
        // As above, one column cropped on each side: [3, 5]; bias -4 then ReLU: [0, 1].
        ConvTranspose2d op = ConvTranspose2d.builder(1).kernel(1, 2).padding(Padding.explicit(0, 1, 0, 1))
                .activation(Activation.RELU).build();
        double[] y = run(op, Shape.nchw(1, 1, 1, 3), new float[] {1, 2, 3}, new float[] {1, 1}, new float[] {-4});
        assertArrayEquals(new double[] {0, 1}, y, 0);
    }

    @Test
    void dilationSpacesTheTaps() {
        ConvTranspose2d op = ConvTranspose2d.builder(1).kernel(1, 3).dilation(1, 2).bias(false).build();
        double[] y = run(op, Shape.nchw(1, 1, 1, 1), new float[] {1}, new float[] {1, 2, 3}, null);
        assertArrayEquals(new double[] {1, 0, 2, 0, 3}, y, 0);
    }

    @Test
    void groupsConnectEachInputChannelToItsOwnOutputs() {
        // Two groups of one channel: weight [C=2, OC/G=1, 1, 1]; output 0 sees channel 0 only.
        ConvTranspose2d op = ConvTranspose2d.builder(2).groups(2).bias(false).build();
        double[] y = run(op, Shape.nchw(1, 2, 1, 1), new float[] {1, 10}, new float[] {2, -1}, null);
        assertArrayEquals(new double[] {2, -10}, y, 0);
        // One group, two outputs: weight [C=2, OC=2]: y_o = sum_c x_c * w[c, o].
        ConvTranspose2d dense = ConvTranspose2d.builder(2).bias(false).build();
        double[] z = run(dense, Shape.nchw(1, 2, 1, 1), new float[] {1, 10}, new float[] {1, 2, 3, 4}, null);
        assertArrayEquals(new double[] {1 + 30, 2 + 40}, z, 0);
    }

    @Test
    void anOutputShapeBeyondTheFullSizeHoldsTheBiasWhereNothingLands() {
        // Row [1, 2], 1x1 kernel, stride 2: full width 3; asked 5, total -2, pads -1 and -1, so the
        // inputs land at columns 1 and 3 and the others hold only the bias.
        ConvTranspose2d op = ConvTranspose2d.builder(1).stride(1, 2).outputShape(1, 5).build();
        double[] y = run(op, Shape.nchw(1, 1, 1, 2), new float[] {1, 2}, new float[] {1}, new float[] {0.5f});
        assertArrayEquals(new double[] {0.5, 1.5, 0.5, 2.5, 0.5}, y, 0);
    }
}
