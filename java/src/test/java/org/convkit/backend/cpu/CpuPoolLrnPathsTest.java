package org.convkit.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;

import org.convkit.ops.Lrn;
import org.convkit.ops.Op;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.ops.ref.LrnRef;
import org.convkit.ops.ref.Pool2dRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.RawRun;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The CPU pooling and LRN kernels on both their paths: the vectorised default (which the
 * consistency sweeps check on every shape) and the plain loops that the system property
 * {@value CpuConv2d#PATH_PROPERTY}{@code =direct} selects, the benchmarks' baseline. Both must
 * match the references (max pooling bit for bit, and the two paths bit for bit with each other),
 * on shapes at the vector path's edges: widths below, at and above one vector, strides 1 to 3,
 * padding on every side, batch 2.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CpuPoolLrnPathsTest {
    private CpuDevice device;

    @BeforeAll
    void open() {
        device = CpuBackend.open(0, 2);
    }

    @AfterAll
    void close() {
        device.close();
    }

    private float[] run(Op op, Shape in, float[] x, boolean direct) {
        if (direct) {
            System.setProperty(CpuConv2d.PATH_PROPERTY, "direct");
        }
        try {
            return RawRun.run(device, op, List.of(in), List.of(x));
        } finally {
            System.clearProperty(CpuConv2d.PATH_PROPERTY);
        }
    }

    private static float[] input(Shape in, long seed, float amplitude) {
        float[] x = new float[(int) in.elementCount()];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) ((r.nextDouble() * 2 - 1) * amplitude);
        }
        return x;
    }

    @Test
    void bothPoolingPathsMatchTheReference() {
        List<Pool2d> ops = List.of(Pool2d.max(3).stride(2).padding(Padding.explicit(1)).build(),
                Pool2d.max(3).stride(3).padding(Padding.explicit(1, 2, 2, 1)).ceilMode(true).build(),
                Pool2d.max(2).dilation(2).padding(Padding.SAME).build(),
                Pool2d.avg(3).stride(2).padding(Padding.explicit(2, 1, 1, 2)).countIncludePad(true).build(),
                Pool2d.avg(3, 5).stride(1, 2).padding(Padding.SAME).build());
        int checked = 0;
        for (Pool2d op : ops) {
            for (int w : new int[] {5, 16, 17, 33, 47}) {
                Shape in = Shape.nchw(2, 3, 11, w);
                Pool2d.Geometry g = op.geometry(in);
                float[] x = input(in, w * 31L + checked, 1f);
                Pool2dRef.Result ref = Pool2dRef.forward(g, x);
                float[] vector = run(op, in, x, false);
                float[] plain = run(op, in, x, true);
                for (int i = 0; i < vector.length; i++) {
                    String what = op.describe(in) + " output " + i;
                    double tol = g.mode() == Pool2d.Mode.MAX ? 0 : 1e-5 * ref.scale()[i];
                    assertTrue(Math.abs(vector[i] - ref.y()[i]) <= tol, what + " vectorised " + vector[i] + " vs " + ref.y()[i]);
                    assertTrue(Math.abs(plain[i] - ref.y()[i]) <= tol, what + " plain " + plain[i] + " vs " + ref.y()[i]);
                    if (g.mode() == Pool2d.Mode.MAX) {
                        assertEquals(Float.floatToRawIntBits(plain[i]), Float.floatToRawIntBits(vector[i]), what);
                    }
                }
                checked++;
            }
        }
        assertEquals(25, checked);
    }

    /** Signed zeros: Math.max puts -0 below +0, in both paths (a maximum of -0 and +0 is +0). */
    @Test
    void maxPoolingOrdersSignedZerosAsMathMax() {
        Pool2d op = Pool2d.max(2).stride(2).build();
        Shape in = Shape.nchw(1, 1, 2, 64);
        float[] x = new float[128];
        for (int i = 0; i < 64; i++) {
            x[i] = i % 4 == 0 ? 0f : -0f;
            x[64 + i] = -0f;
        }
        for (boolean direct : new boolean[] {false, true}) {
            float[] y = run(op, in, x, direct);
            for (int c = 0; c < 32; c++) {
                float want = c % 2 == 0 ? 0f : -0f;
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(y[c]), "column " + c + " direct " + direct);
            }
        }
    }

    @Test
    void bothLrnPathsMatchTheReference() {
        List<Lrn> ops = List.of(Lrn.onnx(5, 1e-4f, 0.75f, 2f), Lrn.onnx(4, 0.5f, 0.5f, 1f), Lrn.tensorflow(2, 1f, 0.3f, 1f),
                Lrn.onnx(3, 0.2f, 2f, 1f));
        for (Lrn op : ops) {
            // Several tiles with a tail, one short tile, and a position count below one vector.
            for (Shape in : List.of(Shape.nchw(2, 9, 37, 61), Shape.nchw(1, 20, 5, 7), Shape.of(3, 7, 11))) {
                float amplitude = (float) Math.sqrt(3 * op.bias() / (op.geometry(in).scale() * Math.min(op.size(), in.dim(1))));
                float[] x = input(in, in.elementCount(), amplitude);
                double[] ref = LrnRef.forward(op, in, x).y();
                for (boolean direct : new boolean[] {false, true}) {
                    float[] y = run(op, in, x, direct);
                    for (int i = 0; i < y.length; i++) {
                        assertTrue(Math.abs(y[i] - ref[i]) <= 1e-5 * Math.max(Math.abs(ref[i]), Float.MIN_NORMAL),
                                op.describe(List.of(in)) + " direct " + direct + " output " + i + ": " + y[i] + " vs " + ref[i]);
                    }
                }
            }
        }
    }
}
