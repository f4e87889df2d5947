package org.convkit.ops.grad;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.convkit.ops.Activation;
import org.convkit.ops.ConvTranspose2d;
import org.convkit.ops.Padding;
import org.convkit.ops.ref.ConvTranspose2dGradRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.GradCase;
import org.junit.jupiter.api.Test;

/**
 * The backward pass of conv_transpose2d (data, weight and bias gradients): kernels 1..5, strides
 * 1..3, dilations, explicit pads, SAME / SAME_LOWER, output padding, explicit output shapes
 * (including ones that give negative pads: output pixels no input reaches), groups, with and
 * without bias and a fused ReLU.
 *
 * <p>Device tolerance: 1e-5 of the sum of |terms|.
 */
class ConvTranspose2dGradTest extends GradSweep {
    @Override
    String family() {
        return "conv_transpose2d";
    }

    static List<GradCase> cases(int count, long maxMacs, long seed) {
        List<GradCase> out = new ArrayList<>();
        add(out, ConvTranspose2d.builder(4).kernel(2).stride(2).activation(Activation.RELU).build(), 2, 3, 3, 4, maxMacs);
        // The tiled weight kernel of the GPU plans (at least 8 channels a side), dy on the large side
        // masked by a fused ReLU.
        add(out, ConvTranspose2d.builder(10).kernel(3).stride(2).padding(Padding.SAME).activation(Activation.RELU)
                .build(), 2, 12, 5, 9, maxMacs >= 100_000 ? 1_000_000 : maxMacs);
        add(out, ConvTranspose2d.builder(3).kernel(3).stride(2).padding(Padding.explicit(1)).outputPadding(1, 1).build(),
                1, 2, 4, 3, maxMacs);
        add(out, ConvTranspose2d.builder(4).kernel(4).stride(2).padding(Padding.SAME).groups(2).build(), 1, 4, 3, 3,
                maxMacs);
        add(out, ConvTranspose2d.builder(2).kernel(3).stride(2).outputShape(9, 4).build(), 1, 2, 3, 2, maxMacs);
        add(out, ConvTranspose2d.builder(2).kernel(1).stride(3).outputShape(8, 7).bias(false).build(), 1, 1, 2, 2, maxMacs);
        add(out, ConvTranspose2d.builder(3).kernel(2).stride(3, 2).dilation(2, 1).outputPadding(2, 0).build(), 1, 2, 3, 3,
                maxMacs);
        SplittableRandom r = new SplittableRandom(seed);
        while (out.size() < count) {
            int k1 = 1 + r.nextInt(5);
            int k2 = r.nextInt(3) == 0 ? 1 + r.nextInt(5) : k1;
            int s1 = 1 + r.nextInt(3);
            int s2 = r.nextInt(3) == 0 ? 1 + r.nextInt(3) : s1;
            int d1 = r.nextInt(5) == 0 ? 2 : 1;
            int d2 = r.nextInt(5) == 0 ? 2 : 1;
            int c = 1 + r.nextInt(5);
            int groups = c % 2 == 0 && r.nextInt(3) == 0 ? 2 : 1;
            int oc = groups * (1 + r.nextInt(4));
            ConvTranspose2d.Builder b = ConvTranspose2d.builder(oc).kernel(k1, k2).stride(s1, s2).dilation(d1, d2)
                    .groups(groups).bias(r.nextInt(4) != 0).activation(r.nextBoolean() ? Activation.RELU : Activation.NONE);
            switch (r.nextInt(4)) {
                case 0 -> b.padding(Padding.SAME);
                case 1 -> b.padding(Padding.SAME_LOWER);
                case 2 -> b.padding(Padding.explicit(r.nextInt(3), r.nextInt(3), r.nextInt(3), r.nextInt(3)));
                default -> b.outputPadding(r.nextInt(Math.max(s1, d1)), r.nextInt(Math.max(s2, d2)));
            }
            add(out, b.build(), 1 + r.nextInt(2), c, 1 + r.nextInt(7), 1 + r.nextInt(7), maxMacs);
        }
        return out;
    }

    private static void add(List<GradCase> out, ConvTranspose2d op, int n, int c, int h, int w, long maxMacs) {
        Shape in = Shape.nchw(n, c, h, w);
        try {
            ConvTranspose2d.Geometry g = op.geometry(in);
            if (g.macs() > 0 && g.macs() <= maxMacs) {
                out.add(GradCase.of(op, List.of(in), new ConvTranspose2dGradRef(g)));
            }
        } catch (IllegalArgumentException e) {
            // Pads that leave no output: not a case.
        }
    }

    @Override
    List<GradCase> fdCases() {
        return cases(40, 5_000, 21);
    }

    @Override
    List<GradCase> deviceCases() {
        return cases(100, 60_000, 22);
    }

    @Test
    void theSweepHasNegativePadsAndGroups() {
        List<GradCase> cs = deviceCases();
        assertTrue(cs.stream().anyMatch(c -> {
            ConvTranspose2d.Geometry g = ((ConvTranspose2d) c.op()).geometry(c.inputs().get(0));
            return g.padTop() < 0 || g.padLeft() < 0 || g.padBottom() < 0 || g.padRight() < 0;
        }), "negative pads");
        assertTrue(cs.stream().filter(c -> ((ConvTranspose2d) c.op()).groups() > 1).count() >= 5, "groups");
    }
}
