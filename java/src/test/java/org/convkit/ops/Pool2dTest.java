package org.convkit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;

import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

/** The maxpool2d / avgpool2d descriptor: shapes, counts and every rejection, against hand-worked values. */
class Pool2dTest {
    private static int[] hw(Pool2d op, int h, int w) {
        Shape out = op.outputShape(Shape.nchw(1, 1, h, w));
        return new int[] {out.h(), out.w()};
    }

    @Test
    void resNet50MaxPool() {
        Pool2d op = Pool2d.max(3).stride(2).padding(Padding.explicit(1)).build();
        Shape in = Shape.nchw(1, 64, 112, 112);
        // (112 + 2 - 3) / 2 + 1 = 56
        assertEquals(Shape.nchw(1, 64, 56, 56), op.outputShape(in));
        assertEquals(List.of(), op.parameterShapes(List.of(in)));
        assertEquals(0, op.parameterCount(List.of(in)));
        // Per axis the first window reads 2 of its 3 taps (one is padding), the other 55 read 3:
        // 2 + 55 * 3 = 167 rows and 167 columns read per plane.
        assertEquals(64L * 167 * 167, op.flops(List.of(in)));
        assertEquals((64L * 112 * 112 + 64L * 56 * 56) * 4, op.bytesMoved(List.of(in), DType.F32));
        assertEquals(0, op.workspaceBytes(List.of(in), DType.F32));
        assertEquals("maxpool2d", op.name());
        assertEquals("maxpool2d(n=1,c=64,h=112,w=112,k=3,s=2,pads(1,1,1,1))", op.describe(List.of(in)));
    }

    @Test
    void alexNetOverlappingMaxPool() {
        Pool2d op = Pool2d.max(3).stride(2).build();
        Shape in = Shape.nchw(2, 96, 55, 55);
        // (55 - 3) / 2 + 1 = 27; VALID windows read all 9 taps.
        assertEquals(Shape.nchw(2, 96, 27, 27), op.outputShape(in));
        assertEquals(2L * 96 * 27 * 27 * 9, op.flops(List.of(in)));
        assertEquals("maxpool2d(n=2,c=96,h=55,w=55,k=3,s=2,valid)", op.describe(in));
    }

    @Test
    void averageFlopsCountOnlyElementsInsideTheInput() {
        // 3x3 SAME stride 1 on 4x4: per axis the windows read 2, 3, 3, 2 taps = 10; 10 * 10 per plane.
        Pool2d op = Pool2d.avg(3).padding(Padding.SAME).countIncludePad(true).build();
        assertEquals(3L * 100, op.flops(List.of(Shape.nchw(1, 3, 4, 4))));
        assertEquals("avgpool2d(n=1,c=3,h=4,w=4,k=3,s=1,same,include_pad)", op.describe(Shape.nchw(1, 3, 4, 4)));
        assertEquals("avgpool2d", op.name());
    }

    @Test
    void onnxNodeTestShapes() {
        // The output sizes of the ONNX node tests test_{max,average}pool_2d_*.
        assertEquals(31, hw(Pool2d.max(2).build(), 32, 32)[0], "default");
        assertEquals(30, hw(Pool2d.avg(3).padding(Padding.explicit(2)).build(), 28, 28)[0], "pads");
        assertEquals(5, hw(Pool2d.max(5).padding(Padding.explicit(2)).build(), 5, 5)[0], "precomputed_pads");
        assertEquals(10, hw(Pool2d.max(5).stride(3).build(), 32, 32)[0], "strides: (32 - 5) / 3 + 1");
        assertEquals(2, hw(Pool2d.max(2).stride(2).build(), 5, 5)[0], "precomputed_strides");
        assertEquals(3, hw(Pool2d.avg(3).stride(2).padding(Padding.SAME).build(), 5, 5)[0], "precomputed_same_upper");
        assertEquals(32, hw(Pool2d.avg(2).padding(Padding.SAME).build(), 32, 32)[0], "same_upper");
        assertEquals(32, hw(Pool2d.avg(2).padding(Padding.SAME_LOWER).build(), 32, 32)[0], "same_lower");
        assertEquals(2, hw(Pool2d.max(2).dilation(2).build(), 4, 4)[0], "dilations: extent 3");
        assertEquals(2, hw(Pool2d.avg(2).dilation(2).ceilMode(true).build(), 4, 4)[0], "dilations with ceil_mode");
        // ceil: (4 - 3) / 2 = 0.5 -> floor 1, ceil 2.
        assertEquals(1, hw(Pool2d.max(3).stride(2).build(), 4, 4)[0]);
        assertEquals(2, hw(Pool2d.max(3).stride(2).ceilMode(true).build(), 4, 4)[0], "ceil");
    }

    @Test
    void ceilDropsAWindowThatWouldStartInTheAfterPadding() {
        // test_maxpool_2d_ceil_output_size_reduce_by_one: 2 wide, kernel 1, stride 2:
        // ceil((2 - 1) / 2) + 1 = 2, but window 1 starts at 2 >= 2 + 0: dropped -> 1.
        assertEquals(1, hw(Pool2d.max(1).stride(2).ceilMode(true).build(), 2, 2)[0]);
        // test_averagepool_2d_ceil_last_window_starts_on_pad: 2 wide, kernel 3, stride 3, pads 1:
        // ceil((2 + 2 - 3) / 3) + 1 = 2, window 1 starts at 3 - 1 = 2 >= 2: dropped -> 1.
        Pool2d p = Pool2d.avg(3).stride(3).padding(Padding.explicit(1)).ceilMode(true).countIncludePad(true).build();
        assertEquals(Shape.nchw(1, 3, 1, 1), p.outputShape(Shape.nchw(1, 3, 2, 2)));
        // A window starting inside the input but overhanging the padding is kept: 5 wide, kernel 2,
        // stride 2: ceil(3 / 2) + 1 = 3, window 2 starts at 4 < 5.
        assertEquals(3, hw(Pool2d.max(2).stride(2).ceilMode(true).build(), 5, 5)[0]);
        assertEquals(2, hw(Pool2d.max(2).stride(2).build(), 5, 5)[0]);
        // Its flops count only the element it reads: windows read 2, 2, 1 taps per axis.
        assertEquals(25, Pool2d.max(2).stride(2).ceilMode(true).build().flops(List.of(Shape.nchw(1, 1, 5, 5))));
    }

    @Test
    void ceilModeLeavesSameAlone() {
        // ONNX computes auto_pad shapes without ceil_mode: ceil(6 / 2) = 3 either way (the floor formula
        // on 6 with kernel 1 and no pad would also give 3, the ceil formula 4).
        Pool2d.Geometry g = Pool2d.max(1).stride(2).padding(Padding.SAME).ceilMode(true).build()
                .geometry(Shape.nchw(1, 1, 6, 6));
        assertEquals(3, g.oh());
        assertEquals(0, g.padTop());
        assertEquals(0, g.padBottom());
    }

    @Test
    void sameAndSameLowerSplitThePadding() {
        // 32 wide, kernel 2: total pad 1; SAME_UPPER puts it after, SAME_LOWER before.
        Pool2d.Geometry upper = Pool2d.max(2).padding(Padding.SAME).build().geometry(Shape.nchw(1, 3, 32, 32));
        assertEquals(0, upper.padTop());
        assertEquals(1, upper.padBottom());
        Pool2d.Geometry lower = Pool2d.max(2).padding(Padding.SAME_LOWER).build().geometry(Shape.nchw(1, 3, 32, 32));
        assertEquals(1, lower.padLeft());
        assertEquals(0, lower.padRight());
        // Dilation enters the extent: kernel 3, dilation 2 -> extent 5, total pad 4 at stride 1.
        Pool2d.Geometry dil = Pool2d.avg(3).dilation(2).padding(Padding.SAME).build().geometry(Shape.nchw(1, 1, 7, 9));
        assertEquals(7, dil.oh());
        assertEquals(2, dil.padTop());
        assertEquals(2, dil.padBottom());
    }

    @Test
    void asymmetricExplicitPadsAndRectangularKernels() {
        Pool2d op = Pool2d.avg(3, 2).stride(2, 1).padding(Padding.explicit(2, 0, 1, 1)).build();
        Pool2d.Geometry g = op.geometry(Shape.nchw(1, 1, 7, 5));
        // height: (7 + 2 + 1 - 3) / 2 + 1 = 4; width: (5 + 0 + 1 - 2) / 1 + 1 = 5
        assertEquals(4, g.oh());
        assertEquals(5, g.ow());
        assertEquals(2, g.padTop());
        assertEquals(0, g.padLeft());
        assertEquals(1, g.padBottom());
        assertEquals(1, g.padRight());
        assertEquals("avgpool2d(k=3x2,s=2x1,pads(2,0,1,1))", op.toString());
    }

    private static void rejects(String op, Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        assertTrue(e.getMessage().startsWith(op + ":"), "message '" + e.getMessage() + "' does not start with " + op);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void kernelMustBePositive() {
        rejects("maxpool2d", () -> Pool2d.max(0, 3).build(), "kernelH", "0");
        rejects("avgpool2d", () -> Pool2d.avg(3, -1).build(), "kernelW", "-1");
    }

    @Test
    void strideMustBePositive() {
        rejects("maxpool2d", () -> Pool2d.max(2).stride(0, 1).build(), "strideH", "0");
        rejects("avgpool2d", () -> Pool2d.avg(2).stride(1, -2).build(), "strideW", "-2");
    }

    @Test
    void dilationMustBePositive() {
        rejects("maxpool2d", () -> Pool2d.max(2).dilation(0, 1).build(), "dilationH", "0");
        rejects("avgpool2d", () -> Pool2d.avg(2).dilation(1, -1).build(), "dilationW", "-1");
    }

    @Test
    void paddingMustNotBeNull() {
        rejects("maxpool2d", () -> Pool2d.max(2).padding(null).build(), "padding");
    }

    @Test
    void countIncludePadIsForAveragePoolingOnly() {
        rejects("maxpool2d", () -> Pool2d.max(2).padding(Padding.explicit(1)).countIncludePad(true).build(),
                "countIncludePad", "average");
    }

    @Test
    void explicitPadsMustBeSmallerThanTheDilatedKernelExtent() {
        rejects("maxpool2d", () -> Pool2d.max(3).padding(Padding.explicit(3, 0, 0, 0)).build(), "pad top 3",
                "kernel height extent 3", "pads(3,0,0,0)");
        rejects("avgpool2d", () -> Pool2d.avg(3, 2).padding(Padding.explicit(0, 0, 0, 2)).build(), "pad right 2",
                "kernel width extent 2");
        rejects("avgpool2d", () -> Pool2d.avg(2).padding(Padding.explicit(0, 0, 2, 0)).build(), "pad bottom 2");
        rejects("maxpool2d", () -> Pool2d.max(2).dilation(1, 2).padding(Padding.explicit(0, 3, 0, 0)).build(),
                "pad left 3", "extent 3", "dilation 2");
        // A dilated kernel allows larger pads: kernel 2, dilation 2 -> extent 3, pad 2 is fine.
        assertEquals(2, Pool2d.max(2).dilation(2).padding(Padding.explicit(2)).build().geometry(Shape.nchw(1, 1, 4, 4)).padTop());
    }

    @Test
    void inputMustBeNchw() {
        rejects("maxpool2d", () -> Pool2d.max(2).build().outputShape(Shape.of(3, 32, 32)), "NCHW", "3x32x32", "rank 3");
        rejects("avgpool2d", () -> Pool2d.avg(2).build().flops(List.of(Shape.of(1, 1, 1, 4, 4))), "rank 5");
    }

    @Test
    void exactlyOneInput() {
        Shape s = Shape.nchw(1, 1, 4, 4);
        rejects("maxpool2d", () -> Pool2d.max(2).build().outputShape(List.of()), "expected 1 input", "got 0");
        rejects("avgpool2d", () -> Pool2d.avg(2).build().parameterShapes(List.of(s, s)), "expected 1 input", "got 2");
    }

    @Test
    void validKernelMustFitTheInput() {
        rejects("maxpool2d", () -> Pool2d.max(5).build().outputShape(Shape.nchw(1, 3, 4, 9)), "kernel height 5",
                "input height 4", "VALID", "1x3x4x9");
        rejects("avgpool2d", () -> Pool2d.avg(3).dilation(3).build().outputShape(Shape.nchw(1, 3, 9, 6)),
                "kernel width 3", "dilated extent 7", "input width 6", "1x3x9x6");
    }

    @Test
    void explicitKernelMustFitThePaddedInput() {
        rejects("maxpool2d", () -> Pool2d.max(6).padding(Padding.explicit(1)).build().outputShape(Shape.nchw(1, 3, 3, 8)),
                "padded input height 5", "3 + pads 1+1", "1x3x3x8");
        // ceil_mode does not relax it.
        rejects("avgpool2d", () -> Pool2d.avg(4).ceilMode(true).build().outputShape(Shape.nchw(1, 1, 8, 3)),
                "kernel width 4", "input width 3");
    }

    @Test
    void everyWindowMustCoverAnInputElement() {
        // SAME on 1 row, kernel 2 dilated by 3 (extent 4): pads 1 + 2, taps at -1 and 2, both outside.
        rejects("maxpool2d", () -> Pool2d.max(2).dilation(3).padding(Padding.SAME).build()
                .outputShape(Shape.nchw(1, 1, 1, 5)), "output height index 0", "covers no element", "input height 1",
                "1x1x1x5");
        // Explicit pads 2 (< extent 4) on 2 columns: window 1 has taps at -1 and 2, between image and padding.
        rejects("avgpool2d", () -> Pool2d.avg(2).dilation(3).padding(Padding.explicit(0, 2, 0, 2)).build()
                .outputShape(Shape.nchw(1, 1, 4, 2)), "output width index 1", "input width 2", "dilation 3");
    }

    @Test
    void flopCountOverflowIsRejectedNotWrapped() {
        // 2^10 planes, each 2^15 + 1 windows of 2^15 taps per axis: 2^10 * 2^60 reads.
        Pool2d huge = Pool2d.max(1 << 15).build();
        rejects("maxpool2d", () -> huge.flops(Shape.nchw(1 << 10, 1, 1 << 16, 1 << 16)), "overflows");
    }

    @Test
    void builderRoundTripsAndEquality() {
        Pool2d p = Pool2d.avg(3, 5).stride(2, 1).dilation(1, 2).padding(Padding.explicit(1, 2, 2, 0)).ceilMode(true)
                .countIncludePad(true).build();
        assertEquals(p, p.toBuilder().build());
        assertEquals(p.hashCode(), p.toBuilder().build().hashCode());
        assertNotEquals(p, p.toBuilder().countIncludePad(false).build());
        assertNotEquals(Pool2d.max(2).build(), Pool2d.avg(2).build());
        assertEquals("avgpool2d(k=3x5,s=2x1,d=1x2,pads(1,2,2,0),ceil,include_pad)", p.toString());
        assertEquals(Pool2d.Mode.AVG, p.mode());
        assertTrue(p.ceilMode());
    }
}
