package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
import org.convkit.ops.ref.Conv2dRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * conv2d on every device found, against {@link Conv2dRef}, over a sweep of cases: kernels 1..7
 * (square and not), strides 1..3, dilations 1..3, SAME / SAME_LOWER / VALID / explicit
 * (asymmetric) padding, groups including depthwise and depthwise with a channel multiplier, odd
 * sizes, channel counts that are not multiples of 16, outputs of size 1, with and without bias
 * and ReLU; then cases aimed at the CPU backend's fast paths (each path, edge widths that are
 * not multiples of the vector width, channel counts that are not multiples of its blocks,
 * strides and dilations that leave phases unused), which {@code CpuConv2dPathsTest} checks it
 * chooses.
 *
 * <p>Each case goes through {@link OpHarness}: inputs, weights and biases uniform in [-1, 1),
 * the output buffer filled with NaN before the kernel runs, allocators checked afterwards.
 *
 * <p><b>Error metric.</b> For output element i, {@code err_i = |y_i - ref_i| / (m_i + 1e-30)}
 * where {@code m_i = |b| + sum |w * x|} over the terms summed (computed by the reference in
 * double). Float32 summation in any order errs by a small multiple of the unit roundoff
 * (2^-24) times m_i, whatever the number of terms, while a wrong index, tap or pad changes y_i
 * by about one term, i.e. by about m_i / K for K terms. <b>Tolerance:</b> err_i <= 1e-5 (about
 * 170 unit roundoffs), for every element; and every element must be finite. On the CPU, shapes
 * its Winograd path may take are held to {@link #WINOGRAD_TOLERANCE} against their tile's scale.
 */
public class Conv2dConsistencyTest extends OnEveryDevice {
    static final double TOLERANCE = 1e-5;
    /** Keeps the sweep fast: multiply-adds per case at most this. */
    private static final long MAX_MACS = 3_000_000;

    /** One case of the sweep. */
    public record Case(Conv2d conv, Shape input) {
        public Conv2d.Geometry geometry() {
            return conv.geometry(input);
        }

        @Override
        public String toString() {
            return conv.describe(input);
        }
    }


    /** The sweep: hand-picked edge cases, seeded random ones up to 240 cases, then the CPU paths' cases. */
    public static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        // The seed network's layers, scaled down in width.
        add(out, Conv2d.builder(10).kernel(3).stride(2).padding(Padding.SAME).build(), 1, 3, 20, 30);
        add(out, Conv2d.builder(20).kernel(3).stride(2).padding(Padding.SAME).activation(Activation.RELU).build(), 2, 10, 10, 15);
        // Output of size 1: kernel equals the input (VALID), and a 1x1 input.
        add(out, Conv2d.builder(5).kernel(7).build(), 1, 3, 7, 7);
        add(out, Conv2d.builder(4).kernel(3, 5).build(), 2, 2, 3, 5);
        add(out, Conv2d.builder(3).kernel(1).build(), 1, 5, 1, 1);
        add(out, Conv2d.builder(3).kernel(3).padding(Padding.SAME).build(), 1, 2, 1, 1);
        add(out, Conv2d.builder(6).kernel(5).stride(3).padding(Padding.SAME).build(), 1, 4, 2, 3);
        // Depthwise, and depthwise with a channel multiplier of 2 and 3.
        add(out, Conv2d.builder(17).kernel(3).groups(17).padding(Padding.SAME).build(), 2, 17, 9, 11);
        add(out, Conv2d.builder(14).kernel(3).stride(2).groups(7).padding(Padding.SAME).build(), 1, 7, 13, 9);
        add(out, Conv2d.builder(15).kernel(5).groups(5).dilation(2).padding(Padding.SAME_LOWER).build(), 1, 5, 12, 10);
        // Groups that are neither 1 nor depthwise.
        add(out, Conv2d.builder(6).kernel(3).groups(3).padding(Padding.explicit(1, 0, 2, 1)).build(), 2, 9, 8, 7);
        add(out, Conv2d.builder(4).kernel(2).groups(2).stride(1, 2).build(), 1, 6, 5, 9);
        // Asymmetric explicit pads, pads larger than the kernel, large dilation.
        add(out, Conv2d.builder(3).kernel(2, 3).padding(Padding.explicit(3, 0, 1, 4)).build(), 1, 2, 4, 3);
        add(out, Conv2d.builder(5).kernel(3).dilation(3).padding(Padding.explicit(2)).activation(Activation.RELU).build(), 1, 3, 7, 8);
        add(out, Conv2d.builder(2).kernel(7).stride(3).dilation(2, 1).padding(Padding.SAME).build(), 3, 1, 23, 19);
        // Channels that are not multiples of the vector width, and many of them.
        add(out, Conv2d.builder(33).kernel(1).bias(false).build(), 1, 31, 6, 5);
        add(out, Conv2d.builder(19).kernel(3).padding(Padding.SAME).bias(false).activation(Activation.RELU).build(), 1, 65, 7, 9);

        SplittableRandom r = new SplittableRandom(20261128);
        while (out.size() < 240) {
            int k1 = 1 + r.nextInt(7);
            int k2 = r.nextInt(4) == 0 ? 1 + r.nextInt(7) : k1;
            int s1 = 1 + r.nextInt(3);
            int s2 = r.nextInt(4) == 0 ? 1 + r.nextInt(3) : s1;
            int d1 = r.nextInt(5) == 0 ? 2 + r.nextInt(2) : 1;
            int d2 = r.nextInt(5) == 0 ? 2 + r.nextInt(2) : d1;
            int c = new int[] {1, 2, 3, 4, 5, 7, 8, 12, 16, 17, 24, 31}[r.nextInt(12)];
            int groups = switch (r.nextInt(5)) {
                case 0 -> c; // depthwise
                case 1 -> divisorOf(c, r);
                default -> 1;
            };
            int multiplier = 1 + r.nextInt(3);
            int oc = groups == c ? c * multiplier : groups * (1 + r.nextInt(Math.max(1, 24 / groups)));
            Padding p = switch (r.nextInt(4)) {
                case 0 -> Padding.SAME;
                case 1 -> Padding.VALID;
                case 2 -> Padding.SAME_LOWER;
                default -> Padding.explicit(r.nextInt(4), r.nextInt(4), r.nextInt(4), r.nextInt(4));
            };
            Conv2d conv = Conv2d.builder(oc).kernel(k1, k2).stride(s1, s2).dilation(d1, d2).groups(groups).padding(p)
                    .bias(r.nextInt(4) != 0).activation(r.nextBoolean() ? Activation.RELU : Activation.NONE).build();
            add(out, conv, 1 + r.nextInt(3), c, 1 + r.nextInt(23), 1 + r.nextInt(23));
        }
        addCpuPathCases(out);
        return out;
    }

    /**
     * Shapes that take each of the CPU backend's fast paths, at sizes that are not multiples of
     * what those paths block by: widths against 16-float vectors and 96-position blocks, output
     * channels against 4-row and 64-channel blocks (1, 2 and 4 vectors in the last block).
     */
    private static void addCpuPathCases(List<Case> out) {
        Padding same = Padding.SAME;
        // Spatial GEMM: 3x3 stride 1, 2 and 3, dilated, 7x7 stride 2 (a ResNet stem), 1x1, asymmetric pads, batches.
        add(out, Conv2d.builder(37).kernel(3).padding(same).activation(Activation.RELU).build(), 1, 20, 11, 35);
        add(out, Conv2d.builder(30).kernel(3).stride(2).padding(same).build(), 2, 17, 23, 19);
        add(out, Conv2d.builder(21).kernel(7).stride(2).padding(Padding.explicit(3)).bias(false).build(), 1, 3, 29, 31);
        add(out, Conv2d.builder(21).kernel(1).build(), 1, 40, 9, 11);
        add(out, Conv2d.builder(9).kernel(3).dilation(2).padding(same).build(), 1, 6, 17, 20);
        add(out, Conv2d.builder(7).kernel(5).stride(1, 2).padding(Padding.explicit(2, 0, 1, 3)).build(), 1, 5, 15, 33);
        add(out, Conv2d.builder(6).kernel(3).stride(3).dilation(2).build(), 1, 4, 30, 41);
        add(out, Conv2d.builder(16).kernel(3).padding(same).bias(false).build(), 1, 8, 40, 50);
        add(out, Conv2d.builder(5).kernel(2, 4).stride(2, 1).padding(Padding.SAME_LOWER).build(), 3, 2, 11, 17);
        add(out, Conv2d.builder(13).kernel(3).padding(same).build(), 1, 1, 37, 53);
        add(out, Conv2d.builder(3).kernel(1).stride(2).build(), 2, 9, 12, 31);
        // Stride 2 with both column phases, rows of two vectors and more (split a vector pair at a
        // time): left padding odd (1, 3), even (2) and none; K in several chunks.
        add(out, Conv2d.builder(22).kernel(3).stride(2).padding(same).activation(Activation.RELU).build(), 2, 13, 9, 71);
        add(out, Conv2d.builder(10).kernel(4).stride(2).build(), 1, 6, 10, 66);
        add(out, Conv2d.builder(7).kernel(5).stride(2).padding(Padding.explicit(1, 2, 2, 3)).build(), 1, 5, 8, 67);
        add(out, Conv2d.builder(9).kernel(7).stride(2).padding(Padding.explicit(0, 3, 1, 1)).bias(false).build(), 2, 3, 12, 80);
        // Batches whose images are cut into ranges of whole 96-position blocks, unequal ones and a partial block.
        add(out, Conv2d.builder(8).kernel(3).padding(same).build(), 2, 4, 24, 30);
        add(out, Conv2d.builder(10).kernel(3).stride(2).padding(same).activation(Activation.RELU).build(), 3, 5, 40, 70);
        // Channel GEMM: small images, K >= 256; last channel block of 1, 2 and 4 vectors; stride 2; dilation.
        add(out, Conv2d.builder(83).kernel(3).padding(same).activation(Activation.RELU).build(), 1, 70, 5, 6);
        add(out, Conv2d.builder(40).kernel(3).padding(same).build(), 1, 40, 2, 2);
        add(out, Conv2d.builder(104).kernel(3).padding(same).build(), 1, 29, 3, 2);
        add(out, Conv2d.builder(16).kernel(1).bias(false).build(), 1, 300, 3, 5);
        add(out, Conv2d.builder(70).kernel(3).stride(2).padding(same).build(), 2, 64, 9, 11);
        add(out, Conv2d.builder(20).kernel(3).dilation(2).padding(same).build(), 1, 30, 5, 4);
        add(out, Conv2d.builder(129).kernel(2, 3).padding(Padding.explicit(1, 0, 0, 2)).build(), 1, 50, 4, 3);
        add(out, Conv2d.builder(64).kernel(3).stride(2).bias(false).build(), 1, 33, 7, 9);
        // Winograd F(4x4, 3x3): sizes not multiples of the 4x4 tile and smaller than one, VALID and
        // uneven explicit pads, batches, ranges that cut a tile row, output channels split across
        // items over a shared input transform (2 and 3 blocks of 64; at batch 3), bias and ReLU on
        // and off. The first six are chosen on two threads; the rest are too small for the
        // path to pay, and run on it in CpuConv2dPathsTest.
        add(out, Conv2d.builder(49).kernel(3).padding(same).activation(Activation.RELU).build(), 1, 16, 17, 18);
        add(out, Conv2d.builder(100).kernel(3).padding(same).build(), 1, 16, 14, 14);
        add(out, Conv2d.builder(48).kernel(3).padding(same).bias(false).build(), 2, 16, 15, 9);
        add(out, Conv2d.builder(50).kernel(3).padding(Padding.explicit(2, 0, 1, 3)).activation(Activation.RELU).build(), 1, 16, 15, 14);
        add(out, Conv2d.builder(48).kernel(3).padding(same).build(), 1, 16, 17, 17);
        add(out, Conv2d.builder(70).kernel(3).padding(same).activation(Activation.RELU).build(), 3, 16, 8, 12);
        add(out, Conv2d.builder(130).kernel(3).build(), 1, 40, 9, 10);
        add(out, Conv2d.builder(33).kernel(3).padding(same).bias(false).build(), 2, 32, 3, 3);
        add(out, Conv2d.builder(37).kernel(3).padding(same).activation(Activation.RELU).build(), 1, 33, 13, 11);
        // Winograd F(2x2, 3x3), which CpuConv2dPathsTest runs on every 3x3 stride-1 case here (it
        // is chosen only above the sweep's size cap): odd sides, an image below one 2x2 tile,
        // VALID and uneven explicit pads, a batch, output channels split over a shared input
        // transform, bias and ReLU on and off, at the channel counts it is meant for.
        add(out, Conv2d.builder(90).kernel(3).padding(same).activation(Activation.RELU).build(), 1, 90, 3, 5);
        add(out, Conv2d.builder(64).kernel(3).padding(same).bias(false).build(), 1, 64, 1, 1);
        add(out, Conv2d.builder(96).kernel(3).padding(same).activation(Activation.RELU).build(), 2, 80, 3, 4);
        add(out, Conv2d.builder(60).kernel(3).padding(Padding.explicit(2, 0, 1, 2)).build(), 1, 70, 3, 4);
        add(out, Conv2d.builder(60).kernel(3).bias(false).build(), 1, 66, 5, 6);
        // Depthwise rows: 3x3 at an Xception-like size, stride 2 with a multiplier, dilated 5x5 with 3.
        add(out, Conv2d.builder(23).kernel(3).groups(23).padding(same).bias(false).build(), 1, 23, 17, 19);
        add(out, Conv2d.builder(18).kernel(3).stride(2).groups(9).padding(same).activation(Activation.RELU).build(), 2, 9, 15, 13);
        add(out, Conv2d.builder(12).kernel(5).dilation(2).groups(4).padding(Padding.explicit(3, 1, 0, 4)).build(), 1, 4, 14, 37);
        // Depthwise, compact layout (stride 1, OW = W): widths below, at and above a vector, two
        // vectors and one more; the image's columns cut on the left, the right or neither; dilated;
        // a kernel one row high; batches and multipliers.
        add(out, Conv2d.builder(5).kernel(3).groups(5).padding(same).activation(Activation.RELU).build(), 2, 5, 7, 7);
        add(out, Conv2d.builder(12).kernel(3).groups(6).padding(same).build(), 1, 6, 5, 16);
        add(out, Conv2d.builder(4).kernel(3).groups(4).padding(Padding.explicit(0, 2, 2, 0)).build(), 1, 4, 6, 17);
        add(out, Conv2d.builder(3).kernel(3).groups(3).padding(Padding.explicit(2, 0, 0, 2)).bias(false).build(), 3, 3, 5, 33);
        add(out, Conv2d.builder(9).kernel(5).dilation(2).groups(3).padding(same).build(), 1, 3, 9, 15);
        add(out, Conv2d.builder(7).kernel(1, 3).groups(7).padding(same).build(), 2, 7, 4, 19);
        // Depthwise, stride 2 split into halves: even and odd widths and heights (padding on the
        // left or not), phase rows below and above a vector, 2x2 VALID, 5x5 with uneven pads.
        add(out, Conv2d.builder(6).kernel(3).stride(2).groups(6).padding(same).build(), 1, 6, 14, 14);
        add(out, Conv2d.builder(3).kernel(3).stride(2).groups(3).padding(same).activation(Activation.RELU).build(), 2, 3, 13, 15);
        add(out, Conv2d.builder(8).kernel(3).stride(2).groups(4).padding(same).build(), 2, 4, 9, 40);
        add(out, Conv2d.builder(2).kernel(3).stride(2).groups(2).padding(same).build(), 1, 2, 3, 3);
        add(out, Conv2d.builder(5).kernel(2).stride(2).groups(5).build(), 1, 5, 8, 35);
        add(out, Conv2d.builder(6).kernel(5).stride(2).groups(3).padding(Padding.explicit(1, 3, 2, 0)).bias(false).build(), 1, 3,
                11, 37);
    }

    private static int divisorOf(int c, SplittableRandom r) {
        List<Integer> ds = new ArrayList<>();
        for (int d = 1; d <= c; d++) {
            if (c % d == 0) {
                ds.add(d);
            }
        }
        return ds.get(r.nextInt(ds.size()));
    }

    /** Adds the case if its shapes are valid and it is small enough; invalid combinations are skipped. */
    private static void add(List<Case> out, Conv2d conv, int n, int c, int h, int w) {
        Shape in = Shape.nchw(n, c, h, w);
        try {
            Conv2d.Geometry g = conv.geometry(in);
            if (g.outputShape().elementCount() * g.macsPerOutput() <= MAX_MACS) {
                out.add(new Case(conv, in));
            }
        } catch (IllegalArgumentException e) {
            // e.g. VALID with a kernel larger than the input: not a case.
        }
    }

    @Test
    void theSweepCoversWhatItClaims() {
        List<Case> cs = cases();
        assertTrue(cs.size() >= 200, "at least 200 cases, got " + cs.size());
        TreeSet<Integer> kernels = new TreeSet<>();
        TreeSet<Integer> strides = new TreeSet<>();
        TreeSet<String> paddings = new TreeSet<>();
        int depthwise = 0;
        int multiplier = 0;
        int grouped = 0;
        int outputOne = 0;
        int dilated = 0;
        int oddChannels = 0;
        for (Case c : cs) {
            Conv2d.Geometry g = c.geometry();
            kernels.add(g.kh());
            kernels.add(g.kw());
            strides.add(g.sh());
            strides.add(g.sw());
            String pid = c.conv().padding().id();
            paddings.add(pid.startsWith("pads") ? "explicit" : pid);
            if (g.groups() == g.c() && g.c() > 1) {
                depthwise++;
                if (g.oc() > g.c()) {
                    multiplier++;
                }
            } else if (g.groups() > 1) {
                grouped++;
            }
            if (g.oh() == 1 && g.ow() == 1) {
                outputOne++;
            }
            if (g.dh() > 1 || g.dw() > 1) {
                dilated++;
            }
            if (g.c() % 16 != 0 && g.c() > 16) {
                oddChannels++;
            }
        }
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7), List.copyOf(kernels), "kernel sizes");
        assertEquals(List.of(1, 2, 3), List.copyOf(strides), "strides");
        assertEquals(List.of("explicit", "same", "same_lower", "valid"), List.copyOf(paddings), "paddings");
        assertTrue(depthwise >= 10 && multiplier >= 5 && grouped >= 10 && outputOne >= 5 && dilated >= 10 && oddChannels >= 5,
                String.format(Locale.ROOT, "depthwise %d, multiplier %d, grouped %d, 1x1 outputs %d, dilated %d, "
                        + "channels > 16 not a multiple of 16: %d", depthwise, multiplier, grouped, outputOne, dilated, oddChannels));
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceMatchesTheReference() {
        List<Case> cs = cases();
        return devices.stream().flatMap(d -> cs.stream().map(c ->
                DynamicTest.dynamicTest(d.name() + " " + c, () -> check(d, c))));
    }

    private static void check(Device device, Case c) {
        Conv2d.Geometry g = c.geometry();
        boolean winograd = device.name().startsWith("cpu") && winogradShape(g);
        OpHarness.check(device, c.conv(), List.of(c.input()), args -> {
            Conv2dRef.Result r = Conv2dRef.forward(g, args.get(0), args.get(1), g.bias() ? args.get(2) : null);
            return new OpHarness.Expected(r.y(), winograd ? winogradScale(g, r.magnitude()) : r.magnitude());
        }, winograd ? WINOGRAD_TOLERANCE : TOLERANCE);
    }

    /**
     * The bound of the CPU backend's Winograd path (3x3, stride 1, dilation 1, groups 1), whose
     * outputs are computed 4x4 tiles at a time: each output's error is bounded relative to the
     * largest {@code m} of its tile ({@link #winogradScale}), since rounding errors of the
     * transformed tile reach every output of it (an output over padding only, whose m is just
     * |b|, errs like its neighbours). Measured at most 2.7e-6 over the sweeps (uniform data) and
     * 1.7e-6 over 3 to 512 channels of He-scaled weights (CpuWinogradTest); a wrong point, tap or
     * pad errs by about m / (9 K) for K input channels, 2e-4 at K = 512.
     */
    public static final double WINOGRAD_TOLERANCE = 2e-5;

    /**
     * The bound of the CPU backend's F(2x2, 3x3) path over the largest {@code m} of its 2x2 tile
     * ({@link #winogradScale(Conv2d.Geometry, double[], int)}): its transforms hold only 0 and
     * +-1 (1/2 in G), so its error is that of the GEMM paths, 0.6e-7 to 1.4e-7 over 3 to 512
     * channels (CpuWinogradTest); a wrong point, tap or pad errs by m / (9 K), 2e-4 at K = 512.
     */
    public static final double WINOGRAD2_TOLERANCE = 2e-6;

    /** Whether the CPU backend may compute this shape on its Winograd path. */
    public static boolean winogradShape(Conv2d.Geometry g) {
        return g.groups() == 1 && g.kh() == 3 && g.kw() == 3 && g.sh() == 1 && g.sw() == 1 && g.dh() == 1 && g.dw() == 1;
    }

    /**
     * Per output, the largest reference magnitude m over its 4x4 output tile (tiles from output
     * (0, 0)), NCHW; it also bounds F(2x2, 3x3)'s tiles, which lie inside those.
     */
    public static double[] winogradScale(Conv2d.Geometry g, double[] m) {
        return winogradScale(g, m, 4);
    }

    /** As {@link #winogradScale(Conv2d.Geometry, double[])} over tiles of {@code tile} x {@code tile} outputs. */
    public static double[] winogradScale(Conv2d.Geometry g, double[] m, int tile) {
        double[] s = new double[m.length];
        int oh = g.oh();
        int ow = g.ow();
        for (int plane = 0; plane < g.n() * g.oc(); plane++) {
            int base = plane * oh * ow;
            for (int ty = 0; ty < oh; ty += tile) {
                for (int tx = 0; tx < ow; tx += tile) {
                    double max = 0;
                    for (int a = ty; a < Math.min(oh, ty + tile); a++) {
                        for (int b = tx; b < Math.min(ow, tx + tile); b++) {
                            max = Math.max(max, m[base + a * ow + b]);
                        }
                    }
                    for (int a = ty; a < Math.min(oh, ty + tile); a++) {
                        for (int b = tx; b < Math.min(ow, tx + tile); b++) {
                            s[base + a * ow + b] = max;
                        }
                    }
                }
            }
        }
        return s;
    }
}
