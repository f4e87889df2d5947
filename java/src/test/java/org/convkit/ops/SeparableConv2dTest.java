package org.convkit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;

import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

class SeparableConv2dTest {
    @Test
    void xceptionMiddleFlowLayer() {
        // Xception's middle flow: SeparableConv2D(728, 3x3, same), no depthwise bias.
        SeparableConv2d sep = SeparableConv2d.builder(728).build();
        Shape in = Shape.nchw(1, 728, 19, 19);
        List<Shape> ins = List.of(in);
        assertEquals(Shape.nchw(1, 728, 19, 19), sep.outputShape(in));
        assertEquals(List.of(Shape.of(728, 1, 3, 3), Shape.of(728, 728, 1, 1), Shape.of(728)), sep.parameterShapes(ins));
        assertEquals(List.of("depthwise_weight", "pointwise_weight", "pointwise_bias"), sep.parameterNames(ins));
        assertEquals(728 * 9 + 728 * 728 + 728, sep.parameterCount(ins));
        assertEquals(2L * 728 * 19 * 19 * 9 + 2L * 728 * 19 * 19 * 728, sep.flops(ins));
        assertEquals("sepconv2d(n=1,c=728,h=19,w=19,oc=728,k=3,s=1,same)", sep.describe(ins));
    }

    @Test
    void theTwoHalvesAreTheConvolutionsTheyClaim() {
        SeparableConv2d sep = SeparableConv2d.builder(16).kernel(5, 3).stride(2).dilation(1, 2).multiplier(3)
                .padding(Padding.VALID).depthwiseBias(true).pointwiseBias(false).between(Activation.RELU)
                .activation(Activation.RELU).build();
        Shape in = Shape.nchw(2, 4, 17, 13);
        Conv2d dw = sep.depthwise(in);
        assertEquals(12, dw.outChannels());
        assertEquals(4, dw.groups());
        assertTrue(dw.hasBias());
        assertEquals(Activation.RELU, dw.activation());
        assertEquals(Shape.nchw(2, 12, 7, 5), sep.intermediateShape(in));
        Conv2d pw = sep.pointwise();
        assertEquals(1, pw.kernelH());
        assertEquals(Shape.nchw(2, 16, 7, 5), sep.outputShape(in));
        assertEquals(dw.parameterCount(in) + pw.parameterCount(sep.intermediateShape(in)), sep.parameterCount(List.of(in)));
        assertEquals("sepconv2d(n=2,c=4,h=17,w=13,oc=16,k=5x3,s=2,d=1x2,m=3,valid,dwbias,nobias,dw-relu,relu)",
                sep.describe(List.of(in)));
    }

    private static void rejects(Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
        assertTrue(e.getMessage().startsWith("sepconv2d"), e.getMessage());
    }

    @Test
    void invalidSettingsAndShapesAreRejectedByName() {
        rejects(() -> SeparableConv2d.builder(0).build(), "outChannels", "0");
        rejects(() -> SeparableConv2d.builder(8).multiplier(0).build(), "multiplier", "0");
        rejects(() -> SeparableConv2d.builder(8).kernel(0).build(), "kernelH");
        rejects(() -> SeparableConv2d.builder(8).stride(1, 0).build(), "strideW");
        rejects(() -> SeparableConv2d.builder(8).dilation(-1).build(), "dilationH");
        rejects(() -> SeparableConv2d.builder(8).padding(null).build(), "padding");
        rejects(() -> SeparableConv2d.builder(8).padding(Padding.VALID).kernel(5).build().outputShape(Shape.nchw(1, 3, 4, 9)),
                "depthwise half", "kernel height 5", "input height 4");
        rejects(() -> SeparableConv2d.builder(8).build().outputShape(Shape.of(3, 8, 8)), "NCHW", "3x8x8");
    }
}
