package org.convkit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;

import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(HostLeakCheck.class)
class DenseTest {
    @Test
    void alexNetFc6ShapesParametersFlopsAndBytes() {
        Dense fc6 = Dense.linear(4096, true, Activation.RELU);
        List<Shape> in = List.of(Shape.of(1, 9216));
        assertEquals(Shape.of(1, 4096), fc6.outputShape(in));
        assertEquals(List.of(Shape.of(4096, 9216), Shape.of(4096)), fc6.parameterShapes(in));
        assertEquals(List.of("weight", "bias"), fc6.parameterNames(in));
        // 9216 * 4096 weights + 4096 biases = 37,752,832 parameters (AlexNet's largest layer).
        assertEquals(37_752_832L, fc6.parameterCount(in));
        assertEquals(2L * 9216 * 4096, fc6.flops(in));
        assertEquals((9216 + 37_752_832L + 4096) * 4, fc6.bytesMoved(in, DType.F32));
        assertEquals(0, fc6.workspaceBytes(in, DType.F32));
        assertEquals("dense(m=1,k=9216,n=4096,transB,c=4096,relu)", fc6.describe(in));
    }

    @Test
    void resNetFcAtBatch64() {
        Dense fc = Dense.linear(2048, 1000, true, Activation.NONE);
        List<Shape> in = List.of(Shape.of(64, 2048));
        assertEquals(Shape.of(64, 1000), fc.outputShape(in));
        assertEquals(2_049_000L, fc.parameterCount(in));
        assertEquals(2L * 64 * 1000 * 2048, fc.flops(in));
        assertEquals("dense(m=64,k=2048,n=1000,inFeatures=2048,transB,c=1000)", fc.describe(in));
    }

    @Test
    void transposesDecideWhereMAndKAreAndTheWeightLayout() {
        // ONNX test_gemm_all_attributes: A 4x3 with transA (M=3, K=4), B 5x4 with transB (N=5), C 1x5.
        Dense all = Dense.builder(5).transA(true).transB(true).alpha(0.25f).beta(0.35f).bias(Shape.of(1, 5)).build();
        Dense.Geometry g = all.geometry(Shape.of(4, 3));
        assertEquals(3, g.m());
        assertEquals(4, g.k());
        assertEquals(Shape.of(5, 4), g.weightShape());
        assertEquals(Shape.of(3, 5), g.outputShape());
        assertEquals("dense(m=3,k=4,n=5,transA,transB,c=1x5,alpha=0.25,beta=0.35)", all.describe(Shape.of(4, 3)));
        // No transposes: B is [K, N].
        Dense plain = Dense.builder(4).bias(false).build();
        assertEquals(List.of(Shape.of(10, 4)), plain.parameterShapes(List.of(Shape.of(2, 10))));
        assertEquals(List.of("weight"), plain.parameterNames(List.of(Shape.of(2, 10))));
        assertEquals("dense(m=2,k=10,n=4,nobias)", plain.describe(List.of(Shape.of(2, 10))));
    }

    @Test
    void biasShapesBroadcastAsOnnxSays() {
        Shape a = Shape.of(3, 7);
        // C[m, n] = c[m * rowStride + n * colStride].
        int[][] expected = {{0, 0}, {0, 1}, {0, 0}, {0, 1}, {1, 0}, {4, 1}};
        Shape[] cs = {Shape.of(1), Shape.of(4), Shape.of(1, 1), Shape.of(1, 4), Shape.of(3, 1), Shape.of(3, 4)};
        for (int i = 0; i < cs.length; i++) {
            Dense.Geometry g = Dense.builder(4).bias(cs[i]).build().geometry(a);
            assertEquals(expected[i][0], g.biasRowStride(), "row stride of C " + cs[i]);
            assertEquals(expected[i][1], g.biasColStride(), "column stride of C " + cs[i]);
            assertEquals(cs[i], Dense.builder(4).bias(cs[i]).build().parameterShapes(List.of(a)).get(1));
        }
        // ONNX test_gemm_default_single_elem_vector_bias: C [1] against a 3x3 output.
        assertEquals(Shape.of(3, 3), Dense.builder(3).bias(Shape.of(1)).build().outputShape(Shape.of(3, 7)));
        assertEquals(Shape.of(3), Dense.builder(3).build().biasShape(), "bias(true) is [N]");
    }

    @Test
    void theWeightIsInitialisedWithTheFanInKWhicheverWayItIsStored() {
        for (boolean transB : new boolean[] {false, true}) {
            Dense d = Dense.builder(1000).transB(transB).build();
            List<Shape> in = List.of(Shape.of(2, 6));
            try (Tensor w = Tensor.allocate(d.parameterShapes(in).get(0))) {
                d.initParameter(in, 0, w, 42);
                float bound = (float) Math.sqrt(6.0 / 6);
                float max = 0;
                for (long i = 0; i < w.elementCount(); i++) {
                    max = Math.max(max, Math.abs(w.get(i)));
                }
                assertTrue(max <= bound && max > 0.9f * bound, "He bound sqrt(6/K) = " + bound + ", max |w| " + max);
            }
        }
    }

    private static void rejects(Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        assertTrue(e.getMessage().startsWith("dense: "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void unitsMustBePositive() {
        rejects(() -> Dense.builder(0).build(), "units", "0");
        rejects(() -> Dense.linear(-3, true, Activation.NONE), "units", "-3");
    }

    @Test
    void inFeaturesMustNotBeNegative() {
        rejects(() -> Dense.builder(4).inFeatures(-1).build(), "inFeatures", "-1");
    }

    @Test
    void alphaAndBetaMustBeFinite() {
        rejects(() -> Dense.builder(4).alpha(Float.NaN).build(), "alpha", "NaN");
        rejects(() -> Dense.builder(4).alpha(Float.POSITIVE_INFINITY).build(), "alpha", "Infinity");
        rejects(() -> Dense.builder(4).beta(Float.NaN).build(), "beta", "NaN");
        rejects(() -> Dense.builder(4).beta(Float.NEGATIVE_INFINITY).build(), "beta", "-Infinity");
    }

    @Test
    void activationMustNotBeNull() {
        rejects(() -> Dense.builder(4).activation(null).build(), "activation");
    }

    @Test
    void biasOfRankAboveTwoIsRejected() {
        rejects(() -> Dense.builder(4).bias(Shape.of(1, 1, 4)).build(), "bias C 1x1x4", "rank 3");
    }

    @Test
    void biasWhoseLastDimensionIsNeitherOneNorNIsRejected() {
        rejects(() -> Dense.builder(4).bias(Shape.of(5)).build(), "bias C 5", "last dimension 5", "N=4");
        rejects(() -> Dense.builder(4).bias(Shape.of(3, 2)).build(), "bias C 3x2", "N=4");
    }

    @Test
    void biasWhoseFirstDimensionIsNeitherOneNorMIsRejected() {
        rejects(() -> Dense.builder(4).bias(Shape.of(2, 4)).build().outputShape(Shape.of(3, 7)),
                "bias C 2x4", "output 3x4", "input 3x7", "M=3");
    }

    @Test
    void inputMustBeRankTwo() {
        rejects(() -> Dense.linear(10, true, Activation.NONE).outputShape(Shape.nchw(1, 256, 6, 6)),
                "input A", "rank 2", "1x256x6x6", "rank 4");
        rejects(() -> Dense.linear(10, true, Activation.NONE).outputShape(Shape.of(9216)), "9216", "rank 1");
    }

    @Test
    void inputWhoseKDiffersFromTheWeightsIsRejectedNamingBothShapes() {
        rejects(() -> Dense.linear(256, 1000, true, Activation.NONE).outputShape(Shape.of(1, 512)),
                "dense: input 1x512 has K=512 but weight expects 1000x256 (K=256)");
        rejects(() -> Dense.builder(4).inFeatures(6).transA(true).build().outputShape(Shape.of(5, 3)),
                "input 5x3 (transA) has K=5", "weight expects 6x4 (K=6)");
    }

    @Test
    void wrongNumberOfInputsIsRejected() {
        rejects(() -> Dense.linear(4, true, Activation.NONE).outputShape(List.of()), "expected 1 input");
        rejects(() -> Dense.linear(4, true, Activation.NONE).parameterShapes(List.of(Shape.of(1, 2), Shape.of(1, 2))),
                "expected 1 input");
    }

    @Test
    void overflowingFlopsAreRejectedNotWrapped() {
        Dense huge = Dense.builder(Integer.MAX_VALUE).bias(false).build();
        rejects(() -> huge.flops(List.of(Shape.of(Integer.MAX_VALUE, Integer.MAX_VALUE))), "overflows");
    }

    @Test
    void builderRoundTripsAndEquality() {
        Dense d = Dense.builder(7).inFeatures(3).transA(true).transB(true).alpha(-2f).beta(0.5f).bias(Shape.of(1, 7))
                .activation(Activation.RELU).build();
        assertEquals(d, d.toBuilder().build());
        assertEquals(d.hashCode(), d.toBuilder().build().hashCode());
        assertNotEquals(d, d.toBuilder().bias(Shape.of(7)).build());
        assertNotEquals(d, d.toBuilder().alpha(1f).build());
        assertEquals("dense(n=7,inFeatures=3,transA,transB,c=1x7,alpha=-2,beta=0.5,relu)", d.toString());
        assertEquals("dense", d.name());
    }
}
