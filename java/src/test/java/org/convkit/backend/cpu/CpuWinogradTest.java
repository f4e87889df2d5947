package org.convkit.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;

import org.convkit.backend.Conv2dConsistencyTest;
import org.convkit.backend.DeviceBuffer;
import org.convkit.memory.Allocator;
import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
import org.convkit.ops.ref.Conv2dRef;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Winograd paths ({@link Winograd3x3}, F(4x4, 3x3) and F(2x2, 3x3)) against the double-precision reference: their error
 * bound, at every input-channel count from 3 to 512 and at the layer sizes it is chosen for
 * (whole tile rows per range, output channels split over a shared input transform), and runs
 * that repeat bit for bit.
 *
 * <p><b>The bound.</b> As in the conv2d sweeps, {@code |y - ref|} over the reference's sum of
 * the magnitudes of the terms, {@code m = |b| + sum |w x|}; but for Winograd the largest m of
 * the output's 4x4 tile ({@link Conv2dConsistencyTest#winogradScale}): the rounding errors of a
 * transformed tile reach all its outputs. Direct summation in float32 stays near 1.5e-7 by the
 * per-output measure; Winograd rounds the transformed input (entries of B^T up to 5, values up to
 * 100 times the input's) and the 36 sums, which A^T recombines with weights up to 8 (64 in
 * 2-D) before they cancel, so its error is about ten times larger, and it does not grow with
 * the channel count (the sums' rounding grows as m does). Measured (this test prints it): 0.8e-6
 * to 1.7e-6 over 3 to 512 input channels, uniform inputs in [-1, 1) and weights of He scale;
 * at most 2.7e-6 over the conv2d sweeps' all-uniform data. {@link #TOLERANCE} = 2e-5 leaves a
 * margin of seven or more, and a wrong point, tap or pad errs by about m / (9 K) for K input
 * channels, 2e-4 or more up to K = 512: the bound catches it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(HostLeakCheck.class)
class CpuWinogradTest {
    /** Bound on the Winograd path's error over its tile's largest sum of |terms| (see the class comment). */
    static final double TOLERANCE = Conv2dConsistencyTest.WINOGRAD_TOLERANCE;
    /** Bound on F(2x2, 3x3)'s error over its 2x2 tile's largest sum of |terms| (see the class comment). */
    static final double TOLERANCE2 = Conv2dConsistencyTest.WINOGRAD2_TOLERANCE;
    private static final int THREADS = 2;
    private CpuDevice device;

    @BeforeAll
    void open() {
        device = CpuBackend.open(0, THREADS);
    }

    @AfterAll
    void close() {
        device.close();
    }

    /** Runs conv on x (uniform [-1, 1)) and weights (uniform of He scale), twice, and returns the largest scaled error. */
    private double worstError(Conv2d conv, Shape in, CpuConv2d.Path path, long seed) {
        Conv2d.Geometry g = conv.geometry(in);
        float scale = (float) Math.sqrt(6.0 / (9 * g.c()));
        Allocator host = Allocator.root("winograd test");
        try (CpuConv2d k = new CpuConv2d(device, conv, in, path);
                Tensor x = Tensor.allocate(in, DType.F32, host, "x").fillUniform(seed, -1f, 1f);
                Tensor w = Tensor.allocate(conv.weightShape(in), DType.F32, host, "w").fillUniform(seed + 1, -scale, scale);
                Tensor b = Tensor.allocate(Shape.of(g.oc()), DType.F32, host, "b").fillUniform(seed + 2, -0.1f, 0.1f);
                Tensor poison = Tensor.allocate(k.outputShape(), DType.F32, host, "poison").fill(Float.NaN);
                Tensor got = Tensor.allocate(k.outputShape(), DType.F32, host, "got");
                DeviceBuffer xb = device.allocate(x.byteSize(), "x");
                DeviceBuffer wb = device.allocate(w.byteSize(), "w");
                DeviceBuffer bb = device.allocate(b.byteSize(), "b");
                DeviceBuffer yb = device.allocate(got.byteSize(), "y")) {
            assertEquals(path, k.path());
            device.upload(x, xb);
            device.upload(w, wb);
            device.upload(b, bb);
            List<DeviceBuffer> args = g.bias() ? List.of(xb, wb, bb) : List.of(xb, wb);
            device.upload(poison, yb);
            k.run(args, yb);
            device.download(yb, got);
            float[] y = got.toFloatArray();
            device.upload(poison, yb);
            k.run(args, yb);
            device.download(yb, got);
            assertArrayEquals(y, got.toFloatArray(), "a second run differs: " + conv.describe(in));
            Conv2dRef.Result r = Conv2dRef.forward(g, x.toFloatArray(), w.toFloatArray(), g.bias() ? b.toFloatArray() : null);
            double[] m = path == CpuConv2d.Path.WINOGRAD || path == CpuConv2d.Path.WINOGRAD2
                    ? Conv2dConsistencyTest.winogradScale(g, r.magnitude(), CpuConv2d.winogradTile(path)) : r.magnitude();
            double worst = 0;
            for (int i = 0; i < y.length; i++) {
                assertTrue(Float.isFinite(y[i]), conv.describe(in) + ": output " + i + " is " + y[i]);
                worst = Math.max(worst, Math.abs(y[i] - r.y()[i]) / (m[i] + 1e-30));
            }
            return worst;
        } finally {
            host.close();
        }
    }

    @Test
    void theErrorStaysWithinTheBoundAtEveryChannelCount() {
        for (int c : new int[] {3, 16, 64, 256, 512}) {
            Conv2d conv = Conv2d.builder(40).kernel(3).padding(Padding.SAME).build();
            Shape in = Shape.nchw(1, c, 13, 10);
            double wino = worstError(conv, in, CpuConv2d.Path.WINOGRAD, c);
            double wino2 = worstError(conv, in, CpuConv2d.Path.WINOGRAD2, c);
            double gemm = worstError(conv, in, CpuConv2d.Path.SPATIAL, c);
            System.out.printf(Locale.ROOT, "winograd error, %d input channels: F(4x4, 3x3) %.3g, F(2x2, 3x3) %.3g (spatial GEMM %.3g)%n",
                    c, wino, wino2, gemm);
            assertTrue(wino <= TOLERANCE, String.format(Locale.ROOT, "%d channels: error %.3g > %.0e", c, wino, TOLERANCE));
            assertTrue(wino2 <= TOLERANCE2, String.format(Locale.ROOT, "%d channels, F(2x2, 3x3): error %.3g > %.0e", c, wino2, TOLERANCE2));
        }
    }

    /**
     * The layer sizes the paths are chosen for: for F(4x4, 3x3) W3a (ranges of whole tile rows),
     * W3b (a 14x14 image at batch 1: output channels split over items, the input transformed
     * once, shared), a batch of 3 with ReLU, and images whose sides are not multiples of 4 with
     * uneven pads; for F(2x2, 3x3) VGG's 512 -> 512 at 14x14, ResNet-50's at 7x7, GoogLeNet's
     * 192 -> 384 at 7x7 at batch 2, and 160 -> 320 on an 8x10 output with uneven pads.
     */
    @Test
    void layerSizesMatchTheReference() {
        record Layer(Conv2d conv, Shape in, CpuConv2d.Path path) {
        }
        CpuConv2d.Path f4 = CpuConv2d.Path.WINOGRAD;
        CpuConv2d.Path f2 = CpuConv2d.Path.WINOGRAD2;
        for (Layer l : List.of(
                new Layer(Conv2d.builder(64).kernel(3).padding(Padding.SAME).bias(false).build(), Shape.nchw(1, 64, 56, 56), f4),
                new Layer(Conv2d.builder(96).kernel(3).padding(Padding.SAME).activation(Activation.RELU).build(),
                        Shape.nchw(3, 48, 27, 30), f4),
                new Layer(Conv2d.builder(100).kernel(3).padding(Padding.explicit(0, 2, 1, 0)).build(), Shape.nchw(2, 64, 7, 61), f4),
                new Layer(Conv2d.builder(144).kernel(3).padding(Padding.SAME).build(), Shape.nchw(1, 288, 14, 14), f4),
                new Layer(Conv2d.builder(256).kernel(3).padding(Padding.SAME).bias(false).build(), Shape.nchw(1, 256, 14, 14), f4),
                new Layer(Conv2d.builder(512).kernel(3).padding(Padding.SAME).build(), Shape.nchw(1, 512, 14, 14), f2),
                new Layer(Conv2d.builder(512).kernel(3).padding(Padding.SAME).activation(Activation.RELU).build(),
                        Shape.nchw(1, 512, 7, 7), f2),
                new Layer(Conv2d.builder(384).kernel(3).padding(Padding.SAME).activation(Activation.RELU).build(),
                        Shape.nchw(2, 192, 7, 7), f2),
                new Layer(Conv2d.builder(320).kernel(3).padding(Padding.explicit(2, 0, 1, 3)).build(), Shape.nchw(1, 160, 7, 9), f2))) {
            Conv2d.Geometry g = l.conv().geometry(l.in());
            assertEquals(l.path(), CpuConv2d.path(g, THREADS), l.conv().describe(l.in()));
            double err = worstError(l.conv(), l.in(), l.path(), 17);
            double bound = l.path() == f2 ? TOLERANCE2 : TOLERANCE;
            assertTrue(err <= bound, String.format(Locale.ROOT, "%s: error %.3g > %.0e", l.conv().describe(l.in()), err, bound));
        }
    }

    @Test
    void theSystemPropertyTurnsBothPathsOffOrPicksOne() {
        Conv2d.Geometry g = Conv2d.builder(64).kernel(3).padding(Padding.SAME).build().geometry(Shape.nchw(1, 64, 56, 56));
        assertEquals(CpuConv2d.Path.WINOGRAD, CpuConv2d.path(g, THREADS));
        Conv2d.Geometry g2 = Conv2d.builder(512).kernel(3).padding(Padding.SAME).build().geometry(Shape.nchw(1, 512, 7, 7));
        assertEquals(CpuConv2d.Path.WINOGRAD2, CpuConv2d.path(g2, THREADS));
        System.setProperty(CpuConv2d.WINOGRAD_PROPERTY, "false");
        try {
            for (Conv2d.Geometry each : List.of(g, g2)) {
                CpuConv2d.Path p = CpuConv2d.path(each, THREADS);
                assertTrue(p != CpuConv2d.Path.WINOGRAD && p != CpuConv2d.Path.WINOGRAD2, p.toString());
            }
            System.setProperty(CpuConv2d.WINOGRAD_PROPERTY, "4");
            assertEquals(CpuConv2d.Path.WINOGRAD, CpuConv2d.path(g, THREADS));
            assertTrue(CpuConv2d.path(g2, THREADS) != CpuConv2d.Path.WINOGRAD2);
            System.setProperty(CpuConv2d.WINOGRAD_PROPERTY, "2");
            assertEquals(CpuConv2d.Path.WINOGRAD2, CpuConv2d.path(g, THREADS));
        } finally {
            System.clearProperty(CpuConv2d.WINOGRAD_PROPERTY);
        }
    }
}
