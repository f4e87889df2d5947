package org.convkit.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;

import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

class ConvTranspose2dTest {
    private static int[] pads(ConvTranspose2d.Geometry g) {
        return new int[] {g.padTop(), g.padLeft(), g.padBottom(), g.padRight()};
    }

    @Test
    void fcnUpscore2DoublesAndAddsTheKernelOverhang() {
        // FCN-8s upscore2: 21 score maps 16x16, k=4, s=2, no pads: 2 * (16 - 1) + 4 = 34.
        ConvTranspose2d up = ConvTranspose2d.builder(21).kernel(4).stride(2).bias(false).build();
        Shape in = Shape.nchw(1, 21, 16, 16);
        assertEquals(Shape.nchw(1, 21, 34, 34), up.outputShape(in));
        assertEquals(Shape.of(21, 21, 4, 4), up.weightShape(in), "input channels first");
        assertEquals(21 * 21 * 16, up.parameterCount(in));
        // No pads: every input pixel meets every tap, 16 * 4 pairs per axis.
        assertEquals(2L * 21 * 21 * 64 * 64, up.flops(in));
        assertEquals((21 * 16 * 16 + 21 * 21 * 16 + 21 * 34 * 34) * 4L, up.bytesMoved(List.of(in), DType.F32));
        assertEquals(0, up.workspaceBytes(List.of(in), DType.F32));
        assertEquals("conv_transpose2d(n=1,c=21,h=16,w=16,oc=21,k=4,s=2,valid,nobias)", up.describe(in));
        assertEquals(List.of("weight"), up.parameterNames(List.of(in)));
    }

    @Test
    void unetUpConvolutionHalvesTheChannels() {
        ConvTranspose2d up = ConvTranspose2d.builder(32).kernel(2).stride(2).build();
        Shape in = Shape.nchw(1, 64, 56, 56);
        assertEquals(Shape.nchw(1, 32, 112, 112), up.outputShape(in));
        assertEquals(List.of(Shape.of(64, 32, 2, 2), Shape.of(32)), up.parameterShapes(List.of(in)));
        assertEquals(List.of("weight", "bias"), up.parameterNames(List.of(in)));
        assertEquals(64 * 32 * 4 + 32, up.parameterCount(in));
        // Each output pixel is reached by exactly one tap per axis from each of the 64 input channels.
        assertEquals(2L * 32 * 112 * 112 * 64, up.flops(in));
    }

    @Test
    void flopsCountOnlyProductsThatLandInsideTheOutput() {
        // k=4, s=2, pads 1 on a 4-pixel axis: output 2 * 3 + 4 - 2 = 8. Tap 0 lands at 2i - 1 (i = 1..3
        // inside), tap 1 at 2i (i = 0..3), tap 2 at 2i + 1 (i = 0..3), tap 3 at 2i + 2 (i = 0..2): 14 pairs, not 16.
        ConvTranspose2d dcgan = ConvTranspose2d.builder(1).kernel(4).stride(2).padding(Padding.explicit(1)).build();
        Shape in = Shape.nchw(1, 1, 4, 4);
        assertEquals(Shape.nchw(1, 1, 8, 8), dcgan.outputShape(in));
        assertEquals(2L * 14 * 14, dcgan.flops(in));
        // Groups divide the channel sum: 6 outputs in 2 groups each read 2 of the 4 input channels.
        ConvTranspose2d grouped = ConvTranspose2d.builder(6).kernel(3).groups(2).build();
        Shape gin = Shape.nchw(2, 4, 5, 5);
        assertEquals(Shape.of(4, 3, 3, 3), grouped.weightShape(gin));
        assertEquals(2L * 2 * 6 * 2 * 15 * 15, grouped.flops(gin));
    }

    @Test
    void explicitPadsAndOutputPaddingFollowTheOnnxFormula() {
        // ONNX test_convtranspose_pads: 3x3, k=3, strides (3, 2), pads [1, 2, 1, 2]: 3*2 + 3 - 2 = 7, 2*2 + 3 - 4 = 3.
        ConvTranspose2d pads = ConvTranspose2d.builder(2).kernel(3).stride(3, 2).padding(Padding.explicit(1, 2, 1, 2)).build();
        ConvTranspose2d.Geometry g = pads.geometry(Shape.nchw(1, 1, 3, 3));
        assertEquals(7, g.oh());
        assertEquals(3, g.ow());
        assertArrayEquals(new int[] {1, 2, 1, 2}, pads(g));
        // ONNX test_convtranspose_pad: output_padding (1, 1) adds a row and a column: 10 x 8.
        ConvTranspose2d op = ConvTranspose2d.builder(2).kernel(3).stride(3, 2).outputPadding(1, 1).build();
        assertEquals(Shape.nchw(1, 2, 10, 8), op.outputShape(Shape.nchw(1, 1, 3, 3)));
        // Output padding may reach the dilation instead of the stride: stride 1, dilation 2, op 1.
        ConvTranspose2d dil = ConvTranspose2d.builder(1).kernel(2).dilation(2).outputPadding(1, 0).build();
        assertEquals(Shape.nchw(1, 1, 3 - 1 + 2 + 1 + 1, 3 - 1 + 2 + 1), dil.outputShape(Shape.nchw(1, 1, 3, 3)));
    }

    @Test
    void sameMakesTheOutputInputTimesStrideWithTheLargerHalfAtTheEnd() {
        for (int in = 1; in <= 12; in++) {
            for (int k = 1; k <= 5; k++) {
                for (int s = 1; s <= 3; s++) {
                    for (int d = 1; d <= 2; d++) {
                        int op = s > 1 ? s - 1 : 0;
                        int total = s * (in - 1) + op + (k - 1) * d + 1 - in * s;
                        String where = "in=" + in + " k=" + k + " s=" + s + " d=" + d + " op=" + op;
                        ConvTranspose2d.Builder b = ConvTranspose2d.builder(1).kernel(k).stride(s).dilation(d).outputPadding(op, op);
                        ConvTranspose2d.Geometry upper = b.padding(Padding.SAME).build().geometry(Shape.nchw(1, 1, in, in));
                        ConvTranspose2d.Geometry lower = b.padding(Padding.SAME_LOWER).build().geometry(Shape.nchw(1, 1, in, in));
                        assertEquals(in * s, upper.oh(), where);
                        assertEquals(in * s, lower.ow(), where);
                        assertEquals(total, upper.padTop() + upper.padBottom(), where);
                        assertEquals(Math.floorDiv(total, 2), upper.padTop(), where);
                        assertEquals(Math.floorDiv(total, 2), lower.padBottom(), where);
                        assertTrue(upper.padBottom() >= upper.padTop() && lower.padTop() >= lower.padBottom(), where);
                    }
                }
            }
        }
        // ONNX test_convtranspose_autopad_same: 3x3, k=3, s=2: full 7, output 6, the one pad at the end.
        ConvTranspose2d same = ConvTranspose2d.builder(2).kernel(3).stride(2).padding(Padding.SAME).build();
        assertArrayEquals(new int[] {0, 0, 1, 1}, pads(same.geometry(Shape.nchw(1, 1, 3, 3))));
        // A kernel smaller than the stride: full 2 * 2 + 1 = 5 < 6, total -1; floor(-1 / 2) = -1 at the start.
        ConvTranspose2d gap = ConvTranspose2d.builder(1).kernel(1).stride(2).padding(Padding.SAME).build();
        assertArrayEquals(new int[] {-1, -1, 0, 0}, pads(gap.geometry(Shape.nchw(1, 1, 3, 3))));
    }

    @Test
    void anOutputShapeSetsThePadsBySpecEquations() {
        Shape in = Shape.nchw(1, 1, 3, 3);
        ConvTranspose2d.Builder b = ConvTranspose2d.builder(2).kernel(3).stride(3, 2);
        // ONNX test_convtranspose_output_shape: full 9 x 7, asked 10 x 8: total -1 on both axes,
        // begin = -1 - floor(-1 / 2) = 0, end = -1: the extra row and column at the end.
        ConvTranspose2d.Geometry extend = b.outputShape(10, 8).build().geometry(in);
        assertEquals(Shape.nchw(1, 2, 10, 8), extend.outputShape());
        assertArrayEquals(new int[] {0, 0, -1, -1}, pads(extend));
        // With output_padding (1, 1) the full size is already 10 x 8: total 0 (test_convtranspose_kernel_shape).
        assertArrayEquals(new int[] {0, 0, 0, 0}, pads(b.outputPadding(1, 1).outputShape(10, 8).build().geometry(in)));
        b.outputPadding(0, 0);
        // Cropping to 7 x 6: totals 2 and 1. NOTSET (and SAME_LOWER) put the larger half at the start,
        // SAME_UPPER at the end.
        assertArrayEquals(new int[] {1, 1, 1, 0}, pads(b.outputShape(7, 6).build().geometry(in)));
        assertArrayEquals(new int[] {1, 1, 1, 0}, pads(b.padding(Padding.SAME_LOWER).build().geometry(in)));
        assertArrayEquals(new int[] {1, 0, 1, 1}, pads(b.padding(Padding.SAME).build().geometry(in)));
        ConvTranspose2d shaped = b.build();
        assertTrue(shaped.hasOutputShape());
        assertEquals("conv_transpose2d(n=1,c=1,h=3,w=3,oc=2,k=3,s=3x2,out=7x6,same)", shaped.describe(in));
        // Much larger than the full size: negative pads on both sides.
        assertArrayEquals(new int[] {-2, -2, -3, -3}, pads(ConvTranspose2d.builder(1).kernel(3).stride(3, 2)
                .outputShape(14, 12).build().geometry(in)));
    }

    private static void rejects(Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
        assertTrue(e.getMessage().startsWith("conv_transpose2d") || e.getMessage().startsWith("padding"), e.getMessage());
    }

    @Test
    void nonPositiveSizesAreRejected() {
        rejects(() -> ConvTranspose2d.builder(0).build(), "outChannels", "0");
        rejects(() -> ConvTranspose2d.builder(4).kernel(0, 3).build(), "kernelH", "0");
        rejects(() -> ConvTranspose2d.builder(4).kernel(3, -1).build(), "kernelW", "-1");
        rejects(() -> ConvTranspose2d.builder(4).stride(0).build(), "strideH", "0");
        rejects(() -> ConvTranspose2d.builder(4).stride(1, -2).build(), "strideW", "-2");
        rejects(() -> ConvTranspose2d.builder(4).dilation(0, 1).build(), "dilationH", "0");
        rejects(() -> ConvTranspose2d.builder(4).dilation(1, 0).build(), "dilationW", "0");
        rejects(() -> ConvTranspose2d.builder(4).groups(0).build(), "groups", "0");
    }

    @Test
    void outChannelsMustBeDivisibleByGroups() {
        rejects(() -> ConvTranspose2d.builder(6).groups(4).build(), "outChannels 6", "groups 4");
    }

    @Test
    void outputPaddingMustBeNonNegative() {
        rejects(() -> ConvTranspose2d.builder(4).stride(2).outputPadding(-1, 0).build(), "outputPaddingH", "-1");
    }

    @Test
    void outputPaddingMustBeBelowTheStrideOrTheDilation() {
        rejects(() -> ConvTranspose2d.builder(4).stride(2).outputPadding(0, 2).build(), "outputPaddingW 2", "strideW 2",
                "dilationW 1");
        rejects(() -> ConvTranspose2d.builder(4).stride(3, 1).dilation(1, 2).outputPadding(3, 0).build(), "outputPaddingH 3",
                "strideH 3", "dilationH 1");
    }

    @Test
    void anOutputShapeMustBePositive() {
        rejects(() -> ConvTranspose2d.builder(4).outputShape(0, 8).build(), "outputShape", "0x8");
    }

    @Test
    void anOutputShapeCannotBeCombinedWithExplicitPads() {
        rejects(() -> ConvTranspose2d.builder(4).padding(Padding.explicit(1)).outputShape(10, 8).build(), "outputShape 10x8",
                "pads(1,1,1,1)");
    }

    @Test
    void nullPaddingAndActivationAreRejected() {
        rejects(() -> ConvTranspose2d.builder(4).padding(null).build(), "padding");
        rejects(() -> ConvTranspose2d.builder(4).activation(null).build(), "activation");
        rejects(() -> Padding.explicit(0, 0, -1, 0), "pads", "bottom=-1");
    }

    @Test
    void theInputMustBeNchw() {
        rejects(() -> ConvTranspose2d.builder(4).build().outputShape(Shape.of(3, 16, 16)), "NCHW", "3x16x16", "rank 3");
        rejects(() -> ConvTranspose2d.builder(4).build().outputShape(List.of()), "expected 1 input");
    }

    @Test
    void inputChannelsMustBeDivisibleByGroups() {
        rejects(() -> ConvTranspose2d.builder(4).groups(2).build().outputShape(Shape.nchw(1, 7, 13, 9)),
                "input channels 7", "groups 2", "1x7x13x9");
    }

    @Test
    void padsThatLeaveNoOutputAreRejected() {
        // Full width 2 * (3 - 1) + 3 = 7, pads 4 + 3 leave 0.
        rejects(() -> ConvTranspose2d.builder(1).kernel(3).stride(2).padding(Padding.explicit(0, 4, 0, 3)).build()
                .outputShape(Shape.nchw(1, 1, 3, 3)), "pads 4+3", "output width", "= 0", "input width 3", "kernel 3",
                "stride 2");
    }

    @Test
    void outputsBeyondIntAndFlopsBeyondLongAreRejectedNotWrapped() {
        rejects(() -> ConvTranspose2d.builder(1).stride(1 << 12).build().outputShape(Shape.nchw(1, 1, 1 << 20, 1)),
                "output height", "does not fit in an int");
        ConvTranspose2d wide = ConvTranspose2d.builder(1 << 20).kernel(1).build();
        rejects(() -> wide.flops(Shape.nchw(1 << 20, 1 << 10, 1 << 10, 1 << 10)), "overflows");
    }

    @Test
    void builderRoundTripsAndEquality() {
        ConvTranspose2d c = ConvTranspose2d.builder(12).kernel(3, 5).stride(2, 3).dilation(1, 2).groups(3).bias(false)
                .outputPadding(1, 2).padding(Padding.explicit(1, 2, 3, 4)).activation(Activation.RELU).build();
        assertEquals(c, c.toBuilder().build());
        assertEquals(c.hashCode(), c.toBuilder().build().hashCode());
        assertEquals("conv_transpose2d(oc=12,k=3x5,s=2x3,d=1x2,g=3,op=1x2,pads(1,2,3,4),nobias,relu)", c.toString());
        ConvTranspose2d shaped = ConvTranspose2d.builder(2).kernel(3).stride(2).outputShape(9, 9).build();
        assertEquals(shaped, shaped.toBuilder().build());
        assertNotEquals(shaped, shaped.toBuilder().outputShape(9, 10).build());
        assertEquals("conv_transpose2d(oc=2,k=3,s=2,out=9x9)", shaped.toString());
    }
}
