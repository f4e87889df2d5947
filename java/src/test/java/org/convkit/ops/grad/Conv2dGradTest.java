package org.convkit.ops.grad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeSet;

import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
import org.convkit.ops.ref.Conv2dGradRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.GradCase;
import org.junit.jupiter.api.Test;

/**
 * The backward pass of conv2d (data, weight and bias gradients): kernels 1..7 (square and not),
 * strides 1..3, dilations 1..3, SAME / SAME_LOWER / VALID / explicit asymmetric padding (pads
 * larger than the kernel too), groups, depthwise with channel multipliers, outputs of size 1,
 * channels that are not multiples of 16, with and without bias and a fused ReLU.
 *
 * <p>Device tolerance: 1e-5 of the sum of |terms| (as the forward sweep: float32 summation in any
 * order errs by a small multiple of 2^-24 times that sum, a wrong tap by about one term).
 */
class Conv2dGradTest extends GradSweep {
    @Override
    String family() {
        return "conv2d";
    }

    static List<GradCase> cases(int count, long maxMacs, long seed) {
        List<Conv2d> convs = new ArrayList<>();
        List<Shape> inputs = new ArrayList<>();
        // Edge cases first: the seed network's layer, outputs of size 1, depthwise with a multiplier,
        // groups, asymmetric pads larger than the kernel, dilation.
        add(convs, inputs, Conv2d.builder(6).kernel(3).stride(2).padding(Padding.SAME).build(), 1, 3, 10, 15, maxMacs);
        add(convs, inputs, Conv2d.builder(5).kernel(3).stride(2).padding(Padding.SAME).activation(Activation.RELU).build(),
                2, 4, 7, 6, maxMacs);
        add(convs, inputs, Conv2d.builder(3).kernel(5).build(), 1, 2, 5, 5, maxMacs);
        add(convs, inputs, Conv2d.builder(3).kernel(1).build(), 2, 3, 1, 1, maxMacs);
        add(convs, inputs, Conv2d.builder(6).kernel(3).groups(3).padding(Padding.SAME).build(), 1, 3, 6, 5, maxMacs);
        add(convs, inputs, Conv2d.builder(4).kernel(3).groups(2).padding(Padding.explicit(1, 0, 2, 1)).build(), 2, 4, 5, 6,
                maxMacs);
        add(convs, inputs, Conv2d.builder(3).kernel(2, 3).padding(Padding.explicit(3, 0, 1, 4)).build(), 1, 2, 4, 3, maxMacs);
        add(convs, inputs, Conv2d.builder(4).kernel(3).dilation(2).padding(Padding.SAME_LOWER).activation(Activation.RELU)
                .build(), 1, 2, 7, 8, maxMacs);
        add(convs, inputs, Conv2d.builder(2).kernel(3).stride(3, 2).dilation(2, 1).padding(Padding.SAME).bias(false).build(),
                2, 1, 9, 7, maxMacs);
        // The tiled GEMM kernels of the GPU plans (at least 8 channels a side): blocks past the tile
        // edges (channels, taps x channels and phase columns not multiples of the tiles), chunks of K
        // across images and rows, stride 1 and 2, both stride phases of uneven sizes, asymmetric pads,
        // dilation, groups, a fused ReLU. Larger than the random cases, so only in the device sweep.
        long tiled = maxMacs >= 100_000 ? 2_000_000 : maxMacs;
        add(convs, inputs, Conv2d.builder(19).kernel(3).stride(2).padding(Padding.SAME).activation(Activation.RELU)
                .build(), 2, 9, 11, 37, tiled);
        add(convs, inputs, Conv2d.builder(70).kernel(3).padding(Padding.explicit(1, 0, 2, 1)).build(), 1, 10, 6, 21,
                tiled);
        add(convs, inputs, Conv2d.builder(16).kernel(5).stride(2).dilation(2).padding(Padding.SAME)
                .activation(Activation.RELU).build(), 1, 8, 9, 17, tiled);
        add(convs, inputs, Conv2d.builder(8).kernel(2, 3).stride(3, 2).padding(Padding.explicit(1, 2, 0, 1)).build(), 3,
                12, 10, 35, tiled);
        add(convs, inputs, Conv2d.builder(32).kernel(3).stride(2).groups(2).padding(Padding.SAME)
                .activation(Activation.RELU).bias(false).build(), 2, 16, 8, 18, tiled);
        add(convs, inputs, Conv2d.builder(24).kernel(3).padding(Padding.SAME).activation(Activation.RELU).build(), 2, 20,
                5, 40, tiled);
        SplittableRandom r = new SplittableRandom(seed);
        while (convs.size() < count) {
            int k1 = 1 + r.nextInt(7);
            int k2 = r.nextInt(4) == 0 ? 1 + r.nextInt(7) : k1;
            int s1 = 1 + r.nextInt(3);
            int s2 = r.nextInt(4) == 0 ? 1 + r.nextInt(3) : s1;
            int d1 = r.nextInt(5) == 0 ? 2 + r.nextInt(2) : 1;
            int d2 = r.nextInt(5) == 0 ? 2 + r.nextInt(2) : d1;
            int c = new int[] {1, 2, 3, 4, 5, 6, 8, 17}[r.nextInt(8)];
            int groups = switch (r.nextInt(5)) {
                case 0 -> c;
                case 1 -> c % 2 == 0 ? 2 : 1;
                default -> 1;
            };
            int oc = groups == c ? c * (1 + r.nextInt(3)) : groups * (1 + r.nextInt(Math.max(1, 12 / groups)));
            Padding p = switch (r.nextInt(4)) {
                case 0 -> Padding.SAME;
                case 1 -> Padding.VALID;
                case 2 -> Padding.SAME_LOWER;
                default -> Padding.explicit(r.nextInt(4), r.nextInt(4), r.nextInt(4), r.nextInt(4));
            };
            Conv2d conv = Conv2d.builder(oc).kernel(k1, k2).stride(s1, s2).dilation(d1, d2).groups(groups).padding(p)
                    .bias(r.nextInt(4) != 0).activation(r.nextBoolean() ? Activation.RELU : Activation.NONE).build();
            add(convs, inputs, conv, 1 + r.nextInt(3), c, 1 + r.nextInt(16), 1 + r.nextInt(16), maxMacs);
        }
        List<GradCase> out = new ArrayList<>();
        for (int i = 0; i < convs.size(); i++) {
            Conv2d conv = convs.get(i);
            Shape in = inputs.get(i);
            out.add(GradCase.of(conv, List.of(in), new Conv2dGradRef(conv.geometry(in))));
        }
        return out;
    }

    /**
     * Adds the case if its shapes are valid, it is small enough and some tap reaches the input (a
     * dilated kernel can miss a one-pixel-wide input entirely: then the output is the bias and the
     * data and weight gradients are zero whatever the data, a case that proves nothing).
     */
    private static void add(List<Conv2d> convs, List<Shape> inputs, Conv2d conv, int n, int c, int h, int w, long maxMacs) {
        Shape in = Shape.nchw(n, c, h, w);
        try {
            Conv2d.Geometry g = conv.geometry(in);
            if (g.outputShape().elementCount() * g.macsPerOutput() <= maxMacs && Conv2dGrad.relation(g).macs() > 0) {
                convs.add(conv);
                inputs.add(in);
            }
        } catch (IllegalArgumentException e) {
            // An invalid combination (VALID with a kernel larger than the input): not a case.
        }
    }

    @Override
    List<GradCase> fdCases() {
        return cases(60, 6_000, 7);
    }

    @Override
    List<GradCase> deviceCases() {
        return cases(120, 120_000, 8);
    }

    @Test
    void theDeviceSweepCoversWhatItClaims() {
        TreeSet<Integer> kernels = new TreeSet<>();
        TreeSet<Integer> strides = new TreeSet<>();
        TreeSet<String> paddings = new TreeSet<>();
        int depthwise = 0;
        int grouped = 0;
        int dilated = 0;
        int relu = 0;
        int outputOne = 0;
        for (GradCase c : deviceCases()) {
            Conv2d conv = (Conv2d) c.op();
            Conv2d.Geometry g = conv.geometry(c.inputs().get(0));
            kernels.add(g.kh());
            kernels.add(g.kw());
            strides.add(g.sh());
            strides.add(g.sw());
            String pid = conv.padding().id();
            paddings.add(pid.startsWith("pads") ? "explicit" : pid);
            depthwise += g.groups() == g.c() && g.c() > 1 ? 1 : 0;
            grouped += g.groups() > 1 && g.groups() < g.c() ? 1 : 0;
            dilated += g.dh() > 1 || g.dw() > 1 ? 1 : 0;
            relu += g.activation() == Activation.RELU ? 1 : 0;
            outputOne += g.oh() == 1 && g.ow() == 1 ? 1 : 0;
        }
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7), List.copyOf(kernels), "kernel sizes");
        assertEquals(List.of(1, 2, 3), List.copyOf(strides), "strides");
        assertEquals(List.of("explicit", "same", "same_lower", "valid"), List.copyOf(paddings), "paddings");
        assertTrue(depthwise >= 5 && grouped >= 5 && dilated >= 5 && relu >= 20 && outputOne >= 3,
                String.format(Locale.ROOT, "depthwise %d, grouped %d, dilated %d, relu %d, 1x1 outputs %d", depthwise,
                        grouped, dilated, relu, outputOne));
    }

    @Test
    void theTermsReadWhatTheyNeed() {
        Shape in = Shape.nchw(1, 2, 5, 5);
        List<Gradient> plain = Conv2d.builder(3).kernel(3).build().gradients(List.of(in));
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.parameter(0)), plain.get(0).operands());
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.input(0)), plain.get(1).operands());
        assertEquals(List.of(Gradient.Operand.dy()), plain.get(2).operands());
        List<Gradient> relu = Conv2d.builder(3).kernel(3).activation(Activation.RELU).bias(false).build()
                .gradients(List.of(in));
        assertEquals(2, relu.size());
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.output(), Gradient.Operand.parameter(0)),
                relu.get(0).operands());
    }
}
