package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import org.convkit.memory.Allocator;
import org.convkit.ops.BatchNorm;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
import org.convkit.ops.ref.BatchNormRef;
import org.convkit.ops.ref.Conv2dRef;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Folding a batch normalization into the convolution before it ({@link BatchNorm#foldIntoConv})
 * gives the same output: on every device, conv2d then batchnorm (two kernels, the intermediate
 * on the device) against the folded conv2d (one kernel), on random data, for plain, 1x1,
 * grouped, depthwise and depthwise-with-multiplier convolutions, with and without a conv bias,
 * default and large epsilon. Both results are also checked against the double reference of the
 * unfolded pair, so that agreeing on a wrong answer fails too.
 *
 * <p>Data: x uniform in [-1, 1), conv weights He-uniform and bias in +-0.1 (the op's
 * {@code initParameter}), batchnorm scale in [-1.5, 1.5), B and mean in [-1, 1), var in
 * [0.05, 2).
 *
 * <p><b>Error metric.</b> For output element i in channel o, with
 * {@code f = scale[o] / sqrt(var[o] + epsilon)} and {@code m_i = |b_conv| + sum |w * x|} (the
 * conv reference's magnitude): {@code err_i = |y_unfolded_i - y_folded_i| / (|f| * (m_i + |mean[o]|) + |B[o]|)}.
 * Each path errs by a few unit roundoffs of that scale: the folded weights {@code w * f} are
 * rounded once each (relative 2^-24, so at most 2^-24 * |f| * m_i over the sum), the unfolded
 * path rounds the conv sum and then the normalization of a value of magnitude up to m_i.
 * <b>Tolerance:</b> err_i <= 1e-5 (about 170 unit roundoffs), for every element, both between
 * the two paths and against the reference.
 */
@ExtendWith(HostLeakCheck.class)
class BatchNormFoldTest {
    static final double TOLERANCE = 1e-5;

    record Case(Conv2d conv, BatchNorm bn, Shape input) {
        @Override
        public String toString() {
            return conv.describe(input) + " + " + bn.describe(conv.outputShape(input));
        }
    }

    private static List<Device> devices;

    @BeforeAll
    static void open() {
        devices = TestDevices.openAll();
    }

    @AfterAll
    static void close() {
        TestDevices.closeAll(devices);
    }

    static List<Case> cases() {
        BatchNorm def = BatchNorm.create();
        return List.of(
                new Case(Conv2d.builder(8).kernel(3).padding(Padding.SAME).build(), def, Shape.nchw(2, 5, 9, 7)),
                new Case(Conv2d.builder(24).kernel(1).bias(false).build(), def, Shape.nchw(1, 16, 6, 5)),
                new Case(Conv2d.builder(9).kernel(3).stride(2).groups(3).padding(Padding.explicit(1, 0, 2, 1)).build(),
                        BatchNorm.withEpsilon(0.01f), Shape.nchw(2, 6, 11, 8)),
                new Case(Conv2d.builder(7).kernel(3).groups(7).padding(Padding.SAME).bias(false).build(), def,
                        Shape.nchw(1, 7, 10, 10)),
                new Case(Conv2d.builder(8).kernel(5).groups(4).dilation(2).padding(Padding.SAME).build(),
                        BatchNorm.withEpsilon(1e-3f), Shape.nchw(1, 4, 12, 9)),
                new Case(Conv2d.builder(32).kernel(3).padding(Padding.SAME).bias(false).build(), def,
                        Shape.nchw(1, 32, 14, 14)),
                new Case(Conv2d.builder(5).kernel(7).stride(2).padding(Padding.SAME).build(), def, Shape.nchw(3, 3, 15, 13)));
    }

    @Test
    void theCasesCoverGroupsDepthwiseAndBias() {
        List<Case> cs = cases();
        assertTrue(cs.stream().anyMatch(c -> c.conv().groups() > 1 && c.conv().groups() < c.input().c()), "grouped");
        assertTrue(cs.stream().anyMatch(c -> c.conv().groups() == c.input().c() && c.conv().outChannels() == c.input().c()),
                "depthwise");
        assertTrue(cs.stream().anyMatch(c -> c.conv().groups() == c.input().c() && c.conv().outChannels() > c.input().c()),
                "depthwise with a multiplier");
        assertTrue(cs.stream().anyMatch(c -> !c.conv().hasBias()) && cs.stream().anyMatch(c -> c.conv().hasBias()),
                "with and without a conv bias");
    }

    @TestFactory
    Stream<DynamicTest> convThenBatchNormEqualsTheFoldedConv() {
        List<Case> cs = cases();
        return devices.stream().flatMap(d -> cs.stream().map(c ->
                DynamicTest.dynamicTest(d.name() + " " + c, () -> check(d, c))));
    }

    private static void check(Device device, Case c) {
        String what = device.name() + " " + c;
        Conv2d conv = c.conv();
        Shape in = c.input();
        Conv2d.Geometry g = conv.geometry(in);
        Shape out = g.outputShape();
        List<Shape> convParams = conv.parameterShapes(List.of(in));
        long seed = c.toString().hashCode();
        Allocator host = Allocator.root("fold host");
        List<Tensor> tensors = new ArrayList<>();
        List<DeviceBuffer> buffers = new ArrayList<>();
        try {
            Tensor x = track(tensors, Tensor.allocate(in, DType.F32, host, "x").fillUniform(seed, -1f, 1f));
            Tensor w = track(tensors, Tensor.allocate(convParams.get(0), DType.F32, host, "w"));
            conv.initParameter(List.of(in), 0, w, seed + 1);
            Tensor b = null;
            if (conv.hasBias()) {
                b = track(tensors, Tensor.allocate(convParams.get(1), DType.F32, host, "b"));
                conv.initParameter(List.of(in), 1, b, seed + 2);
            }
            Shape ch = Shape.of(g.oc());
            Tensor scale = track(tensors, Tensor.allocate(ch, DType.F32, host, "scale").fillUniform(seed + 3, -1.5f, 1.5f));
            Tensor bnBias = track(tensors, Tensor.allocate(ch, DType.F32, host, "B").fillUniform(seed + 4, -1f, 1f));
            Tensor mean = track(tensors, Tensor.allocate(ch, DType.F32, host, "mean").fillUniform(seed + 5, -1f, 1f));
            Tensor var = track(tensors, Tensor.allocate(ch, DType.F32, host, "var").fillUniform(seed + 6, 0.05f, 2f));
            BatchNorm.Folded folded = c.bn().foldIntoConv(conv, in, w, b, scale, bnBias, mean, var, host);
            tensors.add(folded.weight());
            tensors.add(folded.bias());
            assertEquals(conv.toBuilder().bias(true).build(), folded.conv(), "the folded conv is the conv with a bias");

            Tensor poison = track(tensors, Tensor.allocate(out, DType.F32, host, "poison").fill(Float.NaN));
            DeviceBuffer dx = upload(device, buffers, x);
            DeviceBuffer mid = upload(device, buffers, poison);
            DeviceBuffer unfolded = upload(device, buffers, poison);
            DeviceBuffer foldedOut = upload(device, buffers, poison);
            List<DeviceBuffer> convArgs = new ArrayList<>(List.of(dx, upload(device, buffers, w)));
            if (b != null) {
                convArgs.add(upload(device, buffers, b));
            }
            List<DeviceBuffer> bnArgs = List.of(mid, upload(device, buffers, scale), upload(device, buffers, bnBias),
                    upload(device, buffers, mean), upload(device, buffers, var));
            List<DeviceBuffer> foldedArgs = List.of(dx, upload(device, buffers, folded.weight()),
                    upload(device, buffers, folded.bias()));
            try (Kernel k1 = device.prepare(conv, List.of(in));
                    Kernel k2 = device.prepare(c.bn(), List.of(out));
                    Kernel k3 = device.prepare(folded.conv(), List.of(in))) {
                k1.run(convArgs, mid);
                k2.run(bnArgs, unfolded);
                k3.run(foldedArgs, foldedOut);
            }
            Tensor y1 = track(tensors, Tensor.allocate(out, DType.F32, host, "unfolded"));
            Tensor y2 = track(tensors, Tensor.allocate(out, DType.F32, host, "folded"));
            device.download(unfolded, y1);
            device.download(foldedOut, y2);

            // The double reference of the unfolded pair, and each element's error scale.
            Conv2dRef.Result r = Conv2dRef.forward(g, x.toFloatArray(), w.toFloatArray(), b == null ? null : b.toFloatArray());
            float[] convOut = new float[r.y().length];
            for (int i = 0; i < convOut.length; i++) {
                convOut[i] = (float) r.y()[i];
            }
            float eps = c.bn().epsilon();
            double[] ref = BatchNormRef.forward(out, eps, convOut, scale.toFloatArray(), bnBias.toFloatArray(),
                    mean.toFloatArray(), var.toFloatArray()).y();
            int plane = g.oh() * g.ow();
            double[] errScale = new double[ref.length];
            for (int i = 0; i < ref.length; i++) {
                int o = (i / plane) % g.oc();
                double f = scale.get(o) / Math.sqrt((double) var.get(o) + eps);
                errScale[i] = Math.abs(f) * (r.magnitude()[i] + Math.abs(mean.get(o))) + Math.abs(bnBias.get(o));
            }
            float[] a = y1.toFloatArray();
            float[] f = y2.toFloatArray();
            compare(what + ": unfolded vs folded", a, toDouble(f), errScale);
            compare(what + ": unfolded vs reference", a, ref, errScale);
            compare(what + ": folded vs reference", f, ref, errScale);
        } finally {
            buffers.forEach(DeviceBuffer::close);
            tensors.forEach(Tensor::close);
            host.close();
        }
        assertEquals(0, device.allocator().liveBytes(), () -> "device buffers left after " + what);
    }

    private static Tensor track(List<Tensor> tensors, Tensor t) {
        tensors.add(t);
        return t;
    }

    private static DeviceBuffer upload(Device device, List<DeviceBuffer> buffers, Tensor t) {
        DeviceBuffer b = device.allocate(t.byteSize(), t.toString());
        buffers.add(b);
        device.upload(t, b);
        return b;
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    private static void compare(String what, float[] y, double[] expected, double[] scale) {
        double worst = 0;
        int at = -1;
        boolean nonZero = false;
        for (int i = 0; i < y.length; i++) {
            if (!Float.isFinite(y[i]) || !Double.isFinite(expected[i])) {
                fail(what + ": element " + i + " is " + y[i] + " / " + expected[i] + " (not written, or not finite)");
            }
            nonZero |= expected[i] != 0;
            double err = Math.abs(y[i] - expected[i]) / (scale[i] + 1e-30);
            if (err > worst) {
                worst = err;
                at = i;
            }
        }
        assertTrue(nonZero, what + ": all zeros, the case proves nothing");
        if (worst > TOLERANCE) {
            fail(String.format(Locale.ROOT, "%s: element %d is %.9g against %.9g, scaled error %.3g > %.0e", what, at,
                    y[at], expected[at], worst, TOLERANCE));
        }
    }
}
