package org.convkit.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;

import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

class Conv2dTest {
    private static Conv2d seedLayer(int maps) {
        return Conv2d.builder(maps).kernel(3).stride(2).padding(Padding.SAME).build();
    }

    @Test
    void theSeedNetworkShapesParametersAndFlops() {
        Shape in = Shape.nchw(1, 3, 200, 300);
        Conv2d c1 = seedLayer(100);
        Shape a1 = c1.outputShape(in);
        assertEquals(Shape.nchw(1, 100, 100, 150), a1);
        assertEquals(2_800, c1.parameterCount(in));
        Shape a2 = seedLayer(200).outputShape(a1);
        assertEquals(Shape.nchw(1, 200, 50, 75), a2);
        assertEquals(180_200, seedLayer(200).parameterCount(a1));
        Shape a3 = seedLayer(400).outputShape(a2);
        assertEquals(Shape.nchw(1, 400, 25, 38), a3, "SAME rounds 75 / 2 up to 38");
        assertEquals(720_400, seedLayer(400).parameterCount(a2));
        // 2 * outputs * (C/g * kh * kw)
        assertEquals(2L * 100 * 100 * 150 * 27, c1.flops(in));
        assertEquals(2L * 400 * 25 * 38 * 1800, seedLayer(400).flops(a2));
        // Bytes moved: input + weights + bias + output, once each.
        assertEquals((3 * 200 * 300 + 2700 + 100 + 100 * 100 * 150) * 4L, c1.bytesMoved(List.of(in), DType.F32));
        assertEquals(0, c1.workspaceBytes(List.of(in), DType.F32));
        assertEquals("conv2d(n=1,c=3,h=200,w=300,oc=100,k=3,s=2,same)", c1.describe(in));
    }

    @Test
    void sameFollowsTheTensorFlowRuleIncludingDilation() {
        // out = ceil(in / s); total pad = max((out - 1) * s + (k - 1) * d + 1 - in, 0); smaller half first.
        for (int in = 1; in <= 20; in++) {
            for (int k = 1; k <= 7; k++) {
                for (int s = 1; s <= 3; s++) {
                    for (int d = 1; d <= 3; d++) {
                        int out = (in + s - 1) / s;
                        int total = Math.max((out - 1) * s + (k - 1) * d + 1 - in, 0);
                        assertArrayEquals(new int[] {total / 2, total - total / 2, out},
                                Padding.SAME.resolve("conv2d", 0, in, k, s, d), "in=" + in + " k=" + k + " s=" + s + " d=" + d);
                        assertArrayEquals(new int[] {total - total / 2, total / 2, out},
                                Padding.SAME_LOWER.resolve("conv2d", 0, in, k, s, d));
                    }
                }
            }
        }
        // The seed's third layer: 50 high -> 25, total pad 48 + 3 - 50 = 1, all of it at the bottom;
        // 75 wide -> 38, total pad 74 + 3 - 75 = 2, one on each side.
        Conv2d.Geometry g = seedLayer(400).geometry(Shape.nchw(1, 200, 50, 75));
        assertEquals(0, g.padTop());
        assertEquals(1, g.padBottom());
        assertEquals(1, g.padLeft());
        assertEquals(1, g.padRight());
    }

    @Test
    void validAndExplicitOutputSizes() {
        Conv2d valid = Conv2d.builder(8).kernel(3, 5).stride(2, 3).dilation(2, 1).build();
        // extent h = 5, w = 5: (13 - 5) / 2 + 1 = 5, (9 - 5) / 3 + 1 = 2
        assertEquals(Shape.nchw(2, 8, 5, 2), valid.outputShape(Shape.nchw(2, 4, 13, 9)));
        Conv2d pads = Conv2d.builder(8).kernel(3).padding(Padding.explicit(1, 2, 3, 4)).build();
        // (5 + 1 + 3 - 3) + 1 = 7, (6 + 2 + 4 - 3) + 1 = 10
        Conv2d.Geometry g = pads.geometry(Shape.nchw(1, 1, 5, 6));
        assertEquals(7, g.oh());
        assertEquals(10, g.ow());
        assertEquals(1, g.padTop());
        assertEquals(2, g.padLeft());
    }

    @Test
    void groupsAndDepthwiseWithAMultiplier() {
        Conv2d dw = Conv2d.builder(64).kernel(3).groups(32).padding(Padding.SAME).build();
        Shape in = Shape.nchw(1, 32, 19, 19);
        assertEquals(Shape.of(64, 1, 3, 3), dw.weightShape(in));
        assertEquals(64 * 9 + 64, dw.parameterCount(in));
        assertEquals(2L * 64 * 19 * 19 * 9, dw.flops(in));
        assertTrue(dw.describe(in).contains("g=32"));
    }

    private static void rejects(Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
        assertTrue(e.getMessage().startsWith("conv2d") || e.getMessage().startsWith("padding"), e.getMessage());
    }

    @Test
    void everyInvalidSettingIsRejectedNamingTheParameter() {
        rejects(() -> Conv2d.builder(0).build(), "outChannels", "0");
        rejects(() -> Conv2d.builder(4).kernel(0, 3).build(), "kernelH", "0");
        rejects(() -> Conv2d.builder(4).kernel(3, -1).build(), "kernelW", "-1");
        rejects(() -> Conv2d.builder(4).stride(0).build(), "strideH", "0");
        rejects(() -> Conv2d.builder(4).stride(1, -2).build(), "strideW", "-2");
        rejects(() -> Conv2d.builder(4).dilation(0).build(), "dilationH");
        rejects(() -> Conv2d.builder(4).groups(0).build(), "groups", "0");
        rejects(() -> Conv2d.builder(6).groups(4).build(), "outChannels 6", "groups 4");
        rejects(() -> Conv2d.builder(4).padding(null).build(), "padding");
        rejects(() -> Conv2d.builder(4).activation(null).build(), "activation");
        rejects(() -> Padding.explicit(1, -1, 0, 0), "pads", "left=-1");
    }

    @Test
    void everyShapeMismatchIsRejectedNamingTheShapes() {
        rejects(() -> Conv2d.builder(4).groups(2).build().outputShape(Shape.nchw(1, 7, 13, 9)),
                "input channels 7", "groups 2", "1x7x13x9");
        rejects(() -> Conv2d.builder(4).kernel(5).build().outputShape(Shape.nchw(1, 3, 4, 9)),
                "kernel height 5", "input height 4", "VALID");
        rejects(() -> Conv2d.builder(4).kernel(3).dilation(3).build().outputShape(Shape.nchw(1, 3, 9, 6)),
                "kernel width 3", "dilated extent 7", "input width 6");
        rejects(() -> Conv2d.builder(4).kernel(6).padding(Padding.explicit(1)).build().outputShape(Shape.nchw(1, 3, 3, 3)),
                "padded input height 5", "3 + pads 1+1");
        rejects(() -> Conv2d.builder(4).build().outputShape(Shape.of(3, 200, 300)), "NCHW", "3x200x300", "rank 3");
        rejects(() -> Conv2d.builder(4).build().outputShape(List.of()), "expected 1 input");
    }

    @Test
    void overflowingSizesAreRejectedNotWrapped() {
        Conv2d wide = Conv2d.builder(1 << 20).kernel(1).build();
        rejects(() -> wide.flops(Shape.nchw(1 << 20, 1 << 10, 1 << 10, 1 << 10)), "overflows");
    }

    @Test
    void builderRoundTripsAndEquality() {
        Conv2d c = Conv2d.builder(12).kernel(3, 5).stride(2, 1).dilation(1, 2).groups(3).bias(false)
                .padding(Padding.explicit(1, 2, 3, 4)).activation(Activation.RELU).build();
        assertEquals(c, c.toBuilder().build());
        assertEquals(c.hashCode(), c.toBuilder().build().hashCode());
        assertEquals("conv2d(oc=12,k=3x5,s=2x1,d=1x2,g=3,pads(1,2,3,4),nobias,relu)", c.toString());
    }
}
