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

class LrnTest {
    private static final Shape ALEXNET_LRN1 = Shape.nchw(1, 96, 55, 55);

    @Test
    void alexNetShapesFlopsBytesAndDescription() {
        Lrn lrn = Lrn.onnx(5, 1e-4f, 0.75f, 2f);
        List<Shape> in = List.of(ALEXNET_LRN1);
        assertEquals(ALEXNET_LRN1, lrn.outputShape(in));
        assertEquals(List.of(), lrn.parameterShapes(in));
        assertEquals(0, lrn.parameterCount(in));
        // Clipped windows over 96 channels with 2 before and 2 after: 3, 4, then 92 x 5, then 4, 3.
        long windowChannels = 3 + 4 + 92 * 5 + 4 + 3;
        assertEquals(474, windowChannels);
        assertEquals((2 * windowChannels + 4 * 96) * 55 * 55, lrn.flops(in));
        assertEquals(2L * 96 * 55 * 55 * 4, lrn.bytesMoved(in, DType.F32));
        assertEquals(0, lrn.workspaceBytes(in, DType.F32));
        assertEquals("lrn(n=1,c=96,h=55,w=55,onnx,size=5,alpha=1.0E-4,beta=0.75,bias=2.0)", lrn.describe(in));
        assertEquals("lrn(n=1,c=96,h=55,w=55,tf,radius=2,bias=2.0,alpha=1.0E-4,beta=0.75)",
                Lrn.tensorflow(2, 2f, 1e-4f, 0.75f).describe(in));
    }

    @Test
    void theOnnxWindowIsAsymmetricForEvenSizesAndAlphaIsDividedBySize() {
        Shape in = Shape.nchw(1, 16, 3, 3);
        // size: {before, after} = {floor((size-1)/2), ceil((size-1)/2)}
        int[][] expected = {{1, 0, 0}, {2, 0, 1}, {3, 1, 1}, {4, 1, 2}, {5, 2, 2}, {6, 2, 3}, {9, 4, 4}};
        for (int[] e : expected) {
            Lrn.Geometry g = Lrn.onnx(e[0], 0.5f, 0.75f, 1f).geometry(in);
            assertEquals(e[1], g.before(), "before, size " + e[0]);
            assertEquals(e[2], g.after(), "after, size " + e[0]);
            assertEquals(0.5 / e[0], g.scale(), 1e-15, "alpha / size, size " + e[0]);
        }
        Lrn.Geometry tf = Lrn.tensorflow(3, 1f, 0.5f, 0.75f).geometry(in);
        assertEquals(3, tf.before());
        assertEquals(3, tf.after());
        assertEquals(0.5, tf.scale(), 0.0, "TensorFlow does not divide alpha");
        assertEquals(7, Lrn.tensorflow(3, 1f, 0.5f, 0.75f).size());
    }

    @Test
    void windowsWiderThanTheChannelsAreClippedAndOtherRanksWork() {
        Lrn.Geometry g = Lrn.tensorflow(1000, 1f, 1f, 0.5f).geometry(Shape.nchw(2, 3, 4, 5));
        assertEquals(2, g.before());
        assertEquals(2, g.after());
        assertEquals(20, g.spatial());
        // ONNX LRN accepts [N, C] and [N, C, D1, ..., Dk].
        assertEquals(1, Lrn.onnx(3, 1f, 1f, 1f).geometry(Shape.of(4, 7)).spatial());
        assertEquals(60, Lrn.onnx(3, 1f, 1f, 1f).geometry(Shape.of(2, 7, 3, 4, 5)).spatial());
        assertEquals("lrn(in=4x7,onnx,size=3,alpha=1.0,beta=1.0,bias=1.0)", Lrn.onnx(3, 1f, 1f, 1f).describe(List.of(Shape.of(4, 7))));
        // A window of one channel on one channel: flops 2 + 4 per element.
        assertEquals(6L * 2 * 5, Lrn.onnx(1, 1f, 1f, 1f).flops(List.of(Shape.of(2, 1, 5))));
    }

    @Test
    void theConventionIsPartOfIdentity() {
        Lrn onnx = Lrn.onnx(5, 1e-4f, 0.75f, 2f);
        assertEquals(onnx, Lrn.onnx(5, 1e-4f, 0.75f, 2f));
        assertEquals(onnx.hashCode(), Lrn.onnx(5, 1e-4f, 0.75f, 2f).hashCode());
        assertNotEquals(onnx, Lrn.tensorflow(5, 2f, 1e-4f, 0.75f));
        assertEquals(Lrn.Convention.TENSORFLOW, Lrn.tensorflow(2, 2f, 1e-4f, 0.75f).convention());
        assertEquals("lrn(onnx,size=5,alpha=1.0E-4,beta=0.75,bias=2.0)", onnx.toString());
        IllegalStateException e = assertThrows(IllegalStateException.class, onnx::depthRadius);
        assertTrue(e.getMessage().contains("size (5)"), e.getMessage());
    }

    private static void rejects(Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        assertTrue(e.getMessage().startsWith("lrn: "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void sizeMustBePositive() {
        rejects(() -> Lrn.onnx(0, 1e-4f, 0.75f, 1f), "size", "0");
        rejects(() -> Lrn.onnx(-3, 1e-4f, 0.75f, 1f), "size", "-3");
    }

    @Test
    void depthRadiusMustBeNonNegative() {
        rejects(() -> Lrn.tensorflow(-1, 1f, 1e-4f, 0.75f), "depthRadius", "-1");
    }

    @Test
    void alphaMustBeFinite() {
        rejects(() -> Lrn.onnx(5, Float.NaN, 0.75f, 1f), "alpha", "NaN");
        rejects(() -> Lrn.tensorflow(2, 1f, Float.POSITIVE_INFINITY, 0.75f), "alpha", "Infinity");
    }

    @Test
    void alphaMustNotBeNegative() {
        rejects(() -> Lrn.onnx(5, -1e-4f, 0.75f, 1f), "alpha", "non-negative", "-1.0E-4");
    }

    @Test
    void betaMustBeFinite() {
        rejects(() -> Lrn.onnx(5, 1e-4f, Float.NaN, 1f), "beta", "NaN");
        rejects(() -> Lrn.tensorflow(2, 1f, 1e-4f, Float.NEGATIVE_INFINITY), "beta", "-Infinity");
    }

    @Test
    void biasMustBeFinite() {
        rejects(() -> Lrn.onnx(5, 1e-4f, 0.75f, Float.NaN), "bias", "NaN");
        rejects(() -> Lrn.onnx(5, 1e-4f, 0.75f, Float.POSITIVE_INFINITY), "bias", "Infinity");
    }

    @Test
    void biasMustBePositive() {
        rejects(() -> Lrn.onnx(5, 1e-4f, 0.75f, 0f), "bias", "positive", "0.0");
        rejects(() -> Lrn.tensorflow(2, -2f, 1e-4f, 0.75f), "bias", "positive", "-2.0");
    }

    @Test
    void inputNeedsABatchAndAChannelAxis() {
        rejects(() -> Lrn.onnx(5, 1e-4f, 0.75f, 1f).outputShape(List.of(Shape.of(96))), "rank 1", "96", "[N, C, ...]");
    }

    @Test
    void exactlyOneInput() {
        rejects(() -> Lrn.onnx(5, 1e-4f, 0.75f, 1f).outputShape(List.of()), "expected 1 input", "got 0");
        rejects(() -> Lrn.onnx(5, 1e-4f, 0.75f, 1f).outputShape(List.of(ALEXNET_LRN1, ALEXNET_LRN1)),
                "expected 1 input", "got 2", "1x96x55x55");
    }
}
