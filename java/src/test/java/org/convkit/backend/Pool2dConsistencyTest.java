package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.convkit.memory.Allocator;
import org.convkit.ops.Op;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.ops.ref.Pool2dRef;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * maxpool2d and avgpool2d on every device found, against {@link Pool2dRef}, over a sweep of
 * cases: kernels 1..7 (square and not), strides 1..3, dilations 1..2, SAME / SAME_LOWER / VALID /
 * explicit (asymmetric) padding, ceil mode on and off (including windows that overhang the
 * padding and the ONNX rule that drops a window starting in the after-padding), average with and
 * without {@code count_include_pad}, odd sizes, outputs of size 1, channel counts that are not
 * multiples of 16. The hand-picked cases include the settings of every ONNX
 * {@code test_maxpool_2d_*} / {@code test_averagepool_2d_*} node test and the pooling layers of
 * AlexNet, ResNet-50, Xception and Inception, scaled down.
 *
 * <p>Each case goes through {@link OpHarness}: input uniform in [-1, 1), output buffer filled
 * with NaN before the kernel runs, allocators checked afterwards. A separate test feeds NaN
 * inputs and checks that every window holding one yields NaN.
 *
 * <p><b>Error metric.</b> {@code err_i = |y_i - ref_i| / (s_i + 1e-30)} with the reference in
 * double. Max: {@code s_i = |ref_i|}, <b>tolerance 0</b>: a maximum is one of its inputs, so any
 * correct kernel returns it bit for bit. Average: {@code s_i = sum |x| / divisor} over the
 * window's terms; a float32 sum of at most 49 terms in any order errs by at most 48 unit
 * roundoffs (2^-24) of {@code sum |x|}, the division by a few more, so {@code err_i} stays below
 * about 3e-6, while a wrong tap, pad or divisor changes {@code y_i} by about one term in 49,
 * i.e. by {@code s_i / 49} or more. <b>Tolerance 1e-5</b> for averages.
 */
class Pool2dConsistencyTest extends OnEveryDevice {
    static final double MAX_TOLERANCE = 0;
    static final double AVG_TOLERANCE = 1e-5;

    record Case(Pool2d op, Shape input) {
        Pool2d.Geometry geometry() {
            return op.geometry(input);
        }

        @Override
        public String toString() {
            return op.describe(input);
        }
    }


    /** The sweep: hand-picked edge cases, then seeded random ones up to 400 cases. */
    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        // CNN pooling layers, fewer channels: ResNet-50 (3x3 s2 pad 1), AlexNet (3x3 s2 valid),
        // Xception (3x3 s2 same), Inception branches (3x3 s1 same average).
        add(out, Pool2d.max(3).stride(2).padding(Padding.explicit(1)).build(), 1, 5, 28, 28);
        add(out, Pool2d.max(3).stride(2).build(), 2, 3, 13, 13);
        add(out, Pool2d.max(3).stride(2).padding(Padding.SAME).build(), 1, 4, 15, 15);
        add(out, Pool2d.avg(3).padding(Padding.SAME).build(), 1, 6, 9, 9);
        add(out, Pool2d.avg(3).padding(Padding.SAME).countIncludePad(true).build(), 1, 6, 9, 9);
        add(out, Pool2d.avg(2).stride(2).build(), 1, 7, 16, 16);
        // The ONNX node tests' settings, on their shapes (channels as in the tests).
        for (Pool2d.Builder b : List.of(Pool2d.max(2), Pool2d.avg(2))) {
            add(out, b.build(), 1, 3, 32, 32);
        }
        add(out, Pool2d.max(3).stride(2).ceilMode(true).build(), 1, 1, 4, 4);
        add(out, Pool2d.avg(3).stride(2).ceilMode(true).build(), 1, 1, 4, 4);
        add(out, Pool2d.max(1).stride(2).ceilMode(true).build(), 1, 1, 2, 2);
        add(out, Pool2d.avg(3).stride(3).padding(Padding.explicit(1)).ceilMode(true).countIncludePad(true).build(), 1, 3, 2, 2);
        add(out, Pool2d.max(2).dilation(2).build(), 1, 1, 4, 4);
        add(out, Pool2d.avg(2).dilation(2).ceilMode(true).build(), 1, 1, 4, 4);
        add(out, Pool2d.max(3).padding(Padding.explicit(2)).build(), 1, 3, 28, 28);
        add(out, Pool2d.avg(3).padding(Padding.explicit(2)).build(), 1, 3, 28, 28);
        add(out, Pool2d.avg(3).padding(Padding.explicit(2)).countIncludePad(true).build(), 1, 3, 28, 28);
        add(out, Pool2d.max(5).padding(Padding.explicit(2)).build(), 1, 1, 5, 5);
        add(out, Pool2d.avg(5).padding(Padding.explicit(2)).countIncludePad(true).build(), 1, 1, 5, 5);
        add(out, Pool2d.max(3).stride(2).padding(Padding.SAME).build(), 1, 1, 5, 5);
        add(out, Pool2d.avg(3).stride(2).padding(Padding.SAME).build(), 1, 1, 5, 5);
        add(out, Pool2d.max(2).padding(Padding.SAME_LOWER).build(), 1, 3, 32, 32);
        add(out, Pool2d.avg(2).padding(Padding.SAME_LOWER).build(), 1, 3, 32, 32);
        add(out, Pool2d.avg(2).padding(Padding.SAME).build(), 1, 3, 32, 32);
        add(out, Pool2d.max(5).stride(3).build(), 1, 3, 32, 32);
        add(out, Pool2d.avg(5).stride(3).build(), 1, 3, 32, 32);
        // Outputs of size 1: kernel equal to the input, a 1x1 input, SAME on 1x1.
        add(out, Pool2d.max(7).build(), 1, 3, 7, 7);
        add(out, Pool2d.avg(3, 5).build(), 2, 2, 3, 5);
        add(out, Pool2d.max(1).build(), 1, 5, 1, 1);
        add(out, Pool2d.avg(3).padding(Padding.SAME).countIncludePad(true).build(), 1, 2, 1, 1);
        add(out, Pool2d.max(5).stride(3).padding(Padding.SAME_LOWER).build(), 1, 4, 2, 3);
        // Asymmetric pads, rectangular kernels and strides, stride larger than the kernel, ceil overhangs.
        add(out, Pool2d.avg(3, 2).stride(2, 1).padding(Padding.explicit(2, 0, 1, 1)).countIncludePad(true).build(), 1, 2, 7, 5);
        add(out, Pool2d.max(2).stride(3).build(), 1, 3, 11, 10);
        add(out, Pool2d.avg(2, 3).stride(3, 2).padding(Padding.explicit(1, 2, 0, 1)).ceilMode(true).countIncludePad(true)
                .build(), 1, 2, 10, 9);
        add(out, Pool2d.max(4).stride(3).padding(Padding.explicit(0, 3, 2, 0)).ceilMode(true).build(), 1, 3, 12, 13);
        // Dilation with SAME_LOWER and with explicit pads.
        add(out, Pool2d.max(3).dilation(2).padding(Padding.SAME_LOWER).build(), 1, 5, 12, 10);
        add(out, Pool2d.avg(3).dilation(2, 1).padding(Padding.explicit(4, 1, 3, 2)).countIncludePad(true).build(), 1, 3, 9, 8);
        // Channels that are not multiples of 16, and many of them.
        add(out, Pool2d.max(3).stride(2).padding(Padding.SAME).build(), 1, 33, 6, 5);
        add(out, Pool2d.avg(2).build(), 1, 65, 7, 9);
        // The CPU's vector paths: widths at, below and above one and two vectors of 16 (masked
        // last columns), strides 1, 2 (even lanes) and 3 (a gather), pads on every side, batch 2.
        add(out, Pool2d.max(3).stride(2).padding(Padding.explicit(1)).build(), 2, 3, 33, 47);
        add(out, Pool2d.max(3).stride(2).padding(Padding.explicit(1)).ceilMode(true).build(), 1, 2, 16, 32);
        add(out, Pool2d.max(3).stride(3).padding(Padding.explicit(1, 2, 2, 1)).build(), 2, 2, 20, 50);
        add(out, Pool2d.max(2).padding(Padding.SAME).build(), 1, 3, 16, 16);
        add(out, Pool2d.max(3).dilation(2).stride(2).padding(Padding.SAME_LOWER).build(), 1, 2, 19, 35);
        add(out, Pool2d.avg(3).stride(2).padding(Padding.explicit(2, 1, 1, 2)).countIncludePad(true).build(), 2, 2, 17, 40);
        add(out, Pool2d.avg(5).stride(2).dilation(2).ceilMode(true).build(), 1, 2, 25, 37);
        add(out, Pool2d.avg(3, 5).stride(1, 3).padding(Padding.SAME).build(), 1, 2, 9, 17);

        SplittableRandom r = new SplittableRandom(20261129);
        int[] channels = {1, 2, 3, 4, 5, 7, 8, 12, 16, 17, 24, 31, 33};
        while (out.size() < 400) {
            int k1 = 1 + r.nextInt(7);
            int k2 = r.nextInt(4) == 0 ? 1 + r.nextInt(7) : k1;
            int s1 = 1 + r.nextInt(3);
            int s2 = r.nextInt(4) == 0 ? 1 + r.nextInt(3) : s1;
            int d1 = r.nextInt(4) == 0 ? 2 : 1;
            int d2 = r.nextInt(4) == 0 ? 2 : d1;
            Padding p = switch (r.nextInt(4)) {
                case 0 -> Padding.SAME;
                case 1 -> Padding.VALID;
                case 2 -> Padding.SAME_LOWER;
                default -> Padding.explicit(pad(r, k1, d1), pad(r, k2, d2), pad(r, k1, d1), pad(r, k2, d2));
            };
            boolean avg = r.nextBoolean();
            Pool2d.Builder b = avg ? Pool2d.avg(k1, k2) : Pool2d.max(k1, k2);
            b.stride(s1, s2).dilation(d1, d2).padding(p).ceilMode(r.nextBoolean());
            if (avg) {
                b.countIncludePad(r.nextBoolean());
            }
            add(out, b.build(), 1 + r.nextInt(2), channels[r.nextInt(channels.length)], 1 + r.nextInt(23),
                    1 + r.nextInt(23));
        }
        return out;
    }

    /** A random pad below the dilated extent, at most 3. */
    private static int pad(SplittableRandom r, int k, int d) {
        return r.nextInt(Math.min(4, (k - 1) * d + 1));
    }

    /** Adds the case if its shapes are valid; invalid combinations (a VALID kernel larger than the input...) are skipped. */
    private static void add(List<Case> out, Pool2d op, int n, int c, int h, int w) {
        Shape in = Shape.nchw(n, c, h, w);
        try {
            op.geometry(in);
            out.add(new Case(op, in));
        } catch (IllegalArgumentException e) {
            // Not a case.
        }
    }

    /** The output size ceil mode gives before ONNX's drop rule, for one axis of a case. */
    private static long rawCeil(int in, int before, int after, int k, int s, int d) {
        return Math.ceilDiv((long) in + before + after - ((long) (k - 1) * d + 1), s) + 1;
    }

    @Test
    void theSweepCoversWhatItClaims() {
        List<Case> cs = cases();
        assertEquals(400, cs.size());
        TreeSet<Integer> kernels = new TreeSet<>();
        TreeSet<Integer> strides = new TreeSet<>();
        TreeSet<Integer> dilations = new TreeSet<>();
        TreeSet<String> paddings = new TreeSet<>();
        TreeSet<String> modes = new TreeSet<>();
        int ceilGrows = 0;
        int ceilDrops = 0;
        int floorMode = 0;
        int includePadCounts = 0;
        int excludePadWithPads = 0;
        int outputOne = 0;
        int oddChannels = 0;
        int oddSizes = 0;
        for (Case c : cs) {
            Pool2d.Geometry g = c.geometry();
            kernels.add(g.kh());
            kernels.add(g.kw());
            strides.add(g.sh());
            strides.add(g.sw());
            dilations.add(g.dh());
            dilations.add(g.dw());
            String pid = c.op().padding().id();
            paddings.add(pid.startsWith("pads") ? "explicit" : pid);
            modes.add(c.op().name());
            boolean padded = g.padTop() + g.padLeft() + g.padBottom() + g.padRight() > 0;
            if (g.ceilMode() && !(c.op().padding() instanceof Padding.Same)) {
                Pool2d.Geometry floor = c.op().toBuilder().ceilMode(false).build().geometry(c.input());
                if (g.oh() > floor.oh() || g.ow() > floor.ow()) {
                    ceilGrows++;
                }
                if (rawCeil(g.h(), g.padTop(), g.padBottom(), g.kh(), g.sh(), g.dh()) > g.oh()
                        || rawCeil(g.w(), g.padLeft(), g.padRight(), g.kw(), g.sw(), g.dw()) > g.ow()) {
                    ceilDrops++;
                }
            } else if (!g.ceilMode()) {
                floorMode++;
            }
            if (g.mode() == Pool2d.Mode.AVG && padded) {
                if (g.countIncludePad()) {
                    includePadCounts++;
                } else {
                    excludePadWithPads++;
                }
            }
            if (g.oh() == 1 && g.ow() == 1) {
                outputOne++;
            }
            if (g.c() % 16 != 0 && g.c() > 16) {
                oddChannels++;
            }
            if (g.h() % 2 == 1 && g.w() % 2 == 1) {
                oddSizes++;
            }
        }
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7), List.copyOf(kernels), "kernel sizes");
        assertEquals(List.of(1, 2, 3), List.copyOf(strides), "strides");
        assertEquals(List.of(1, 2), List.copyOf(dilations), "dilations");
        assertEquals(List.of("explicit", "same", "same_lower", "valid"), List.copyOf(paddings), "paddings");
        assertEquals(List.of("avgpool2d", "maxpool2d"), List.copyOf(modes), "modes");
        assertTrue(ceilGrows >= 20 && ceilDrops >= 3 && floorMode >= 100 && includePadCounts >= 20
                && excludePadWithPads >= 20 && outputOne >= 10 && oddChannels >= 20 && oddSizes >= 50,
                String.format(Locale.ROOT, "ceil grows the output %d, ceil drop rule %d, floor mode %d, average with "
                        + "pads counted %d / not counted %d, 1x1 outputs %d, channels > 16 not a multiple of 16: %d, "
                        + "odd sizes %d", ceilGrows, ceilDrops, floorMode, includePadCounts, excludePadWithPads,
                        outputOne, oddChannels, oddSizes));
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceMatchesTheReference() {
        List<Case> cs = cases();
        return devices.stream().flatMap(d -> cs.stream().map(c ->
                DynamicTest.dynamicTest(d.name() + " " + c, () -> check(d, c))));
    }

    private static void check(Device device, Case c) {
        Pool2d.Geometry g = c.geometry();
        OpHarness.check(device, c.op(), List.of(c.input()), args -> {
            Pool2dRef.Result r = Pool2dRef.forward(g, args.get(0));
            return new OpHarness.Expected(r.y(), r.scale());
        }, g.mode() == Pool2d.Mode.MAX ? MAX_TOLERANCE : AVG_TOLERANCE);
    }

    @TestFactory
    Stream<DynamicTest> nanInputsPropagate() {
        List<Case> cs = List.of(
                new Case(Pool2d.max(3).stride(2).padding(Padding.explicit(1)).build(), Shape.nchw(1, 3, 9, 9)),
                new Case(Pool2d.max(2).dilation(2).padding(Padding.SAME).ceilMode(true).build(), Shape.nchw(2, 2, 7, 6)),
                new Case(Pool2d.avg(3).stride(2).padding(Padding.SAME).build(), Shape.nchw(1, 3, 9, 9)));
        return devices.stream().flatMap(d -> cs.stream().map(c ->
                DynamicTest.dynamicTest(d.name() + " NaN " + c, () -> checkNaN(d, c))));
    }

    /** Seeds NaN at a few places; every output whose window holds one must be NaN, the others exact or within tolerance. */
    private static void checkNaN(Device device, Case c) {
        float[] x = new float[(int) c.input().elementCount()];
        SplittableRandom r = new SplittableRandom(c.toString().hashCode());
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextDouble() * 2 - 1);
        }
        for (int i = 0; i < x.length; i += 1 + x.length / 5) {
            x[i] = Float.NaN;
        }
        Pool2dRef.Result ref = Pool2dRef.forward(c.geometry(), x);
        float[] y = run(device, c.op(), c.input(), x);
        int nans = 0;
        for (int i = 0; i < y.length; i++) {
            String what = device.name() + " " + c + ": output " + i;
            if (Double.isNaN(ref.y()[i])) {
                nans++;
                assertTrue(Float.isNaN(y[i]), what + " is " + y[i] + ", but its window holds a NaN");
            } else {
                double tol = c.op().mode() == Pool2d.Mode.MAX ? MAX_TOLERANCE : AVG_TOLERANCE;
                assertTrue(Math.abs(y[i] - ref.y()[i]) <= tol * ref.scale()[i], what + " is " + y[i] + ", reference "
                        + ref.y()[i]);
            }
        }
        assertTrue(nans > 0 && nans < y.length, "the case should mix NaN and finite outputs, got " + nans + " NaN of "
                + y.length);
    }

    /** Runs {@code op} on one input on {@code device} and returns the output; every buffer is closed. */
    static float[] run(Device device, Op op, Shape input, float[] x) {
        Allocator host = Allocator.root("pool2d test host");
        try (Kernel kernel = device.prepare(op, List.of(input));
                Tensor in = Tensor.of(input, x, host, "x");
                Tensor result = Tensor.allocate(kernel.outputShape(), DType.F32, host, "y");
                DeviceBuffer xb = device.allocate(in.byteSize(), "x");
                DeviceBuffer yb = device.allocate(result.byteSize(), "y")) {
            device.upload(in, xb);
            kernel.run(List.of(xb), yb);
            device.download(yb, result);
            return result.toFloatArray();
        } finally {
            host.close();
            assertEquals(0, device.allocator().liveBytes(), () -> device.allocator().tree());
        }
    }
}
