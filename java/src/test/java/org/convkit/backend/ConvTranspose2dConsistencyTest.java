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
import org.convkit.ops.ConvTranspose2d;
import org.convkit.ops.Padding;
import org.convkit.ops.ref.ConvTranspose2dRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * conv_transpose2d on every device found, against {@link ConvTranspose2dRef}, over a sweep of
 * cases: kernels 1..5 (square and not), strides 1..3, dilations 1..2, output padding, no pads /
 * explicit asymmetric pads / SAME / SAME_LOWER / an explicit output shape (smaller and larger
 * than the full result, so negative pads too), groups including depthwise-like
 * ({@code groups == inChannels}, with channel multipliers), odd sizes, channel counts that are not
 * multiples of 16, 1x1 inputs and outputs, with and without bias and ReLU.
 *
 * <p>Each case goes through {@link OpHarness}: inputs, weights and biases uniform in [-1, 1),
 * the output buffer filled with NaN before the kernel runs (so a pixel no input reaches must
 * still be written, with the bias), allocators checked afterwards.
 *
 * <p><b>Error metric.</b> For output element i, {@code err_i = |y_i - ref_i| / (m_i + 1e-30)}
 * where {@code m_i = |b| + sum |w * x|} over the terms summed (computed by the reference in
 * double). Float32 summation in any order errs by a small multiple of the unit roundoff
 * (2^-24) times m_i, while a wrong tap, stride phase or pad changes y_i by about one term, i.e.
 * by about m_i / K for K terms. <b>Tolerance:</b> err_i <= 1e-5 (about 170 unit roundoffs), for
 * every element; and every element must be finite.
 */
class ConvTranspose2dConsistencyTest extends OnEveryDevice {
    static final double TOLERANCE = 1e-5;
    /** Keeps the sweep fast: multiply-adds per case at most this. */
    private static final long MAX_MACS = 2_000_000;
    private static final int CASES = 300;

    record Case(ConvTranspose2d op, Shape input) {
        ConvTranspose2d.Geometry geometry() {
            return op.geometry(input);
        }

        @Override
        public String toString() {
            return op.describe(input);
        }
    }


    /** The sweep: hand-picked edge cases, then seeded random ones up to {@link #CASES}. */
    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        // FCN upscore2, scaled down: 21 classes, k=4, s=2, no pads (16x16 -> 34x34 at full size).
        add(out, b(21).kernel(4).stride(2).bias(false).build(), 1, 21, 6, 7);
        // U-Net up-convolution: k=2, s=2 halves the channels and doubles the size.
        add(out, b(8).kernel(2).stride(2).activation(Activation.RELU).build(), 2, 16, 5, 9);
        // DCGAN-style: k=4, s=2, pads 1 doubles exactly.
        add(out, b(6).kernel(4).stride(2).padding(Padding.explicit(1)).build(), 1, 12, 4, 4);
        // PyTorch's output_padding idiom: k=3, s=2, p=1, op=1 doubles exactly.
        add(out, b(5).kernel(3).stride(2).padding(Padding.explicit(1)).outputPadding(1, 1).build(), 1, 7, 5, 6);
        // 1x1 input, 1x1 output, and a kernel smaller than the stride (gaps that only the bias fills).
        add(out, b(3).kernel(3).build(), 1, 2, 1, 1);
        add(out, b(4).kernel(1).build(), 2, 3, 1, 1);
        add(out, b(2).kernel(2).padding(Padding.explicit(0, 0, 1, 1)).build(), 1, 3, 1, 1);
        add(out, b(3).kernel(1).stride(3).build(), 1, 2, 4, 5);
        add(out, b(3).kernel(2).stride(3, 2).dilation(2, 1).outputPadding(2, 0).build(), 1, 2, 5, 3);
        // SAME rule: output = input * stride, negative total when the kernel is smaller than the stride.
        add(out, b(4).kernel(3).stride(2).padding(Padding.SAME).build(), 1, 3, 5, 7);
        add(out, b(4).kernel(4).stride(3).padding(Padding.SAME_LOWER).build(), 1, 3, 5, 4);
        add(out, b(2).kernel(1).stride(2).padding(Padding.SAME).build(), 1, 3, 3, 4);
        add(out, b(2).kernel(2).stride(3).padding(Padding.SAME_LOWER).build(), 1, 3, 3, 4);
        // Explicit output shapes: crop (positive total, odd and even) and extend (negative total).
        add(out, b(3).kernel(3).stride(2).outputShape(9, 10).build(), 1, 2, 5, 5);
        add(out, b(3).kernel(3).stride(2).outputShape(14, 15).build(), 1, 2, 5, 5);
        add(out, b(3).kernel(3).stride(2).outputShape(12, 13).padding(Padding.SAME).build(), 1, 2, 5, 5);
        add(out, b(3).kernel(5).stride(3).outputPadding(1, 2).outputShape(13, 11).padding(Padding.SAME_LOWER).build(),
                1, 2, 4, 3);
        // Depthwise-like (groups == inChannels), with channel multipliers 1 and 3.
        add(out, b(17).kernel(3).stride(2).groups(17).padding(Padding.explicit(1)).build(), 2, 17, 7, 5);
        add(out, b(15).kernel(4).stride(2).groups(5).dilation(2).build(), 1, 5, 6, 5);
        // Groups that are neither 1 nor depthwise, in and out channels per group both above 1.
        add(out, b(6).kernel(3).groups(3).padding(Padding.explicit(2, 0, 1, 3)).build(), 2, 9, 6, 5);
        // Pads larger than the kernel, dilation with stride sharing a factor (gcd(2, 2) = 2).
        add(out, b(3).kernel(3).stride(2).dilation(2).padding(Padding.explicit(4, 3, 5, 2)).build(), 1, 4, 7, 8);
        // Many channels, none a multiple of 16.
        add(out, b(33).kernel(2).stride(2).bias(false).build(), 1, 31, 5, 4);
        add(out, b(19).kernel(3).stride(1).padding(Padding.explicit(1)).activation(Activation.RELU).build(), 1, 65, 5, 6);

        SplittableRandom r = new SplittableRandom(20261129);
        while (out.size() < CASES) {
            int k1 = 1 + r.nextInt(5);
            int k2 = r.nextInt(4) == 0 ? 1 + r.nextInt(5) : k1;
            int s1 = 1 + r.nextInt(3);
            int s2 = r.nextInt(4) == 0 ? 1 + r.nextInt(3) : s1;
            int d1 = r.nextInt(4) == 0 ? 2 : 1;
            int d2 = r.nextInt(4) == 0 ? 2 : d1;
            int c = new int[] {1, 2, 3, 4, 5, 7, 8, 12, 16, 17, 24, 31}[r.nextInt(12)];
            int groups = switch (r.nextInt(5)) {
                case 0 -> c; // depthwise-like
                case 1 -> divisorOf(c, r);
                default -> 1;
            };
            int oc = groups == c ? c * (1 + r.nextInt(3)) : groups * (1 + r.nextInt(Math.max(1, 24 / groups)));
            int op1 = r.nextInt(3) == 0 ? r.nextInt(Math.max(s1, d1)) : 0;
            int op2 = r.nextInt(3) == 0 ? r.nextInt(Math.max(s2, d2)) : 0;
            int h = 1 + r.nextInt(13);
            int w = 1 + r.nextInt(13);
            ConvTranspose2d.Builder bld = b(oc).kernel(k1, k2).stride(s1, s2).dilation(d1, d2).groups(groups)
                    .outputPadding(op1, op2).bias(r.nextInt(4) != 0)
                    .activation(r.nextBoolean() ? Activation.RELU : Activation.NONE);
            switch (r.nextInt(5)) {
                case 0 -> bld.padding(Padding.VALID);
                case 1 -> bld.padding(Padding.SAME);
                case 2 -> bld.padding(Padding.SAME_LOWER);
                case 3 -> bld.padding(Padding.explicit(r.nextInt(4), r.nextInt(4), r.nextInt(4), r.nextInt(4)));
                default -> {
                    // An output shape around the full size: totals from -3 (extend) to +4 (crop).
                    int fullH = s1 * (h - 1) + op1 + (k1 - 1) * d1 + 1;
                    int fullW = s2 * (w - 1) + op2 + (k2 - 1) * d2 + 1;
                    bld.outputShape(Math.max(1, fullH - r.nextInt(8) + 3), Math.max(1, fullW - r.nextInt(8) + 3));
                    bld.padding(new Padding[] {Padding.VALID, Padding.SAME, Padding.SAME_LOWER}[r.nextInt(3)]);
                }
            }
            add(out, bld.build(), 1 + r.nextInt(3), c, h, w);
        }
        return out;
    }

    private static ConvTranspose2d.Builder b(int outChannels) {
        return ConvTranspose2d.builder(outChannels);
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
    private static void add(List<Case> out, ConvTranspose2d op, int n, int c, int h, int w) {
        Shape in = Shape.nchw(n, c, h, w);
        try {
            ConvTranspose2d.Geometry g = op.geometry(in);
            if (g.macs() <= MAX_MACS && g.outputShape().elementCount() <= 200_000) {
                out.add(new Case(op, in));
            }
        } catch (IllegalArgumentException e) {
            // e.g. pads that leave no output: not a case.
        }
    }

    /** The padding kind of a case: valid, same, same_lower, explicit, or output_shape. */
    private static String paddingKind(ConvTranspose2d op) {
        if (op.hasOutputShape()) {
            return "output_shape";
        }
        String id = op.padding().id();
        return id.startsWith("pads") ? "explicit" : id;
    }

    @Test
    void theSweepCoversWhatItClaims() {
        List<Case> cs = cases();
        assertEquals(CASES, cs.size());
        TreeSet<Integer> kernels = new TreeSet<>();
        TreeSet<Integer> strides = new TreeSet<>();
        TreeSet<Integer> dilations = new TreeSet<>();
        TreeSet<String> paddings = new TreeSet<>();
        int depthwise = 0;
        int multiplier = 0;
        int grouped = 0;
        int outputPadding = 0;
        int negativePads = 0;
        int croppingShapes = 0;
        int oddChannels = 0;
        int oneByOneIn = 0;
        int oneByOneOut = 0;
        int gaps = 0;
        for (Case c : cs) {
            ConvTranspose2d.Geometry g = c.geometry();
            kernels.add(g.kh());
            kernels.add(g.kw());
            strides.add(g.sh());
            strides.add(g.sw());
            dilations.add(g.dh());
            dilations.add(g.dw());
            paddings.add(paddingKind(c.op()));
            if (g.groups() == g.c() && g.c() > 1) {
                depthwise++;
                if (g.oc() > g.c()) {
                    multiplier++;
                }
            } else if (g.groups() > 1) {
                grouped++;
            }
            if (g.outputPaddingH() > 0 || g.outputPaddingW() > 0) {
                outputPadding++;
            }
            if (g.padTop() < 0 || g.padLeft() < 0 || g.padBottom() < 0 || g.padRight() < 0) {
                negativePads++;
            }
            if (c.op().hasOutputShape() && (g.padTop() + g.padBottom() > 0 || g.padLeft() + g.padRight() > 0)) {
                croppingShapes++;
            }
            if (g.c() % 16 != 0 && g.c() > 16) {
                oddChannels++;
            }
            if (g.h() == 1 && g.w() == 1) {
                oneByOneIn++;
            }
            if (g.oh() == 1 && g.ow() == 1) {
                oneByOneOut++;
            }
            if ((g.kh() - 1) * g.dh() + 1 < g.sh() || (g.kw() - 1) * g.dw() + 1 < g.sw()) {
                gaps++;
            }
        }
        assertEquals(List.of(1, 2, 3, 4, 5), List.copyOf(kernels), "kernel sizes");
        assertEquals(List.of(1, 2, 3), List.copyOf(strides), "strides");
        assertEquals(List.of(1, 2), List.copyOf(dilations), "dilations");
        assertEquals(List.of("explicit", "output_shape", "same", "same_lower", "valid"), List.copyOf(paddings), "paddings");
        String counts = String.format(Locale.ROOT, "depthwise %d, multiplier %d, grouped %d, output padding %d, "
                + "negative pads %d, cropping output shapes %d, channels > 16 not a multiple of 16: %d, 1x1 inputs %d, "
                + "1x1 outputs %d, kernels with gaps between strides %d", depthwise, multiplier, grouped, outputPadding,
                negativePads, croppingShapes, oddChannels, oneByOneIn, oneByOneOut, gaps);
        assertTrue(depthwise >= 20 && multiplier >= 10 && grouped >= 10 && outputPadding >= 30 && negativePads >= 20
                && croppingShapes >= 10 && oddChannels >= 10 && oneByOneIn >= 3 && oneByOneOut >= 1 && gaps >= 10, counts);
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceMatchesTheReference() {
        List<Case> cs = cases();
        return devices.stream().flatMap(d -> cs.stream().map(c ->
                DynamicTest.dynamicTest(d.name() + " " + c, () -> check(d, c))));
    }

    private static void check(Device device, Case c) {
        ConvTranspose2d.Geometry g = c.geometry();
        OpHarness.check(device, c.op(), List.of(c.input()), args -> {
            ConvTranspose2dRef.Result r = ConvTranspose2dRef.forward(g, args.get(0), args.get(1),
                    g.bias() ? args.get(2) : null);
            return new OpHarness.Expected(r.y(), r.magnitude());
        }, TOLERANCE);
    }
}
