package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.convkit.exec.InferenceResult;
import org.convkit.exec.RunOptions;
import org.convkit.exec.Session;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
import org.convkit.ops.SeparableConv2d;
import org.convkit.ops.ref.SeparableConv2dRef;
import org.convkit.tensor.Compare;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The fused sepconv2d on every device against {@link SeparableConv2dRef}, over kernels 1..7,
 * strides 1..3, dilations, multipliers 1..3, all paddings, both biases and activations, channel
 * counts around the kernels' chunk sizes (16, 32, 64) and odd spatial sizes, a few larger images;
 * and the fused op against the same model written as two conv2d layers.
 *
 * <p><b>Error metric</b>: {@code |y - ref| / scale} with the scale of {@link SeparableConv2dRef}
 * (the magnitudes summed in both halves); <b>tolerance</b> 1e-5, as for conv2d.
 */
public class SeparableConv2dConsistencyTest extends OnEveryDevice {
    static final double TOLERANCE = 1e-5;

    /** One case of the sweep. */
    public record Case(SeparableConv2d op, Shape input) {
        @Override
        public String toString() {
            return op.describe(List.of(input));
        }
    }

    /** The sweep: hand-picked cases, then seeded random ones up to 160. */
    public static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        add(out, SeparableConv2d.builder(24).build(), 1, 16, 9, 9);
        add(out, SeparableConv2d.builder(70).multiplier(2).activation(Activation.RELU).build(), 1, 33, 5, 7);
        add(out, SeparableConv2d.builder(65).between(Activation.RELU).depthwiseBias(true).build(), 2, 32, 6, 5);
        add(out, SeparableConv2d.builder(1).kernel(1).padding(Padding.VALID).build(), 1, 1, 1, 1);
        add(out, SeparableConv2d.builder(5).kernel(7).stride(3).padding(Padding.VALID).build(), 1, 3, 7, 7);
        SplittableRandom r = new SplittableRandom(728);
        while (out.size() < 160) {
            int k = 1 + r.nextInt(7);
            Padding p = switch (r.nextInt(4)) {
                case 0 -> Padding.SAME;
                case 1 -> Padding.VALID;
                case 2 -> Padding.SAME_LOWER;
                default -> Padding.explicit(r.nextInt(3), r.nextInt(3), r.nextInt(3), r.nextInt(3));
            };
            SeparableConv2d op = SeparableConv2d.builder(1 + r.nextInt(80)).kernel(k, r.nextInt(4) == 0 ? 1 + r.nextInt(7) : k)
                    .stride(1 + r.nextInt(3)).dilation(r.nextInt(5) == 0 ? 2 : 1).multiplier(1 + r.nextInt(3)).padding(p)
                    .depthwiseBias(r.nextBoolean()).pointwiseBias(r.nextInt(4) != 0)
                    .between(r.nextBoolean() ? Activation.RELU : Activation.NONE)
                    .activation(r.nextBoolean() ? Activation.RELU : Activation.NONE).build();
            add(out, op, 1 + r.nextInt(2), 1 + r.nextInt(40), 1 + r.nextInt(14), 1 + r.nextInt(14));
        }
        // Larger images for the CPU vector path: pixel ranges of whole 96-position blocks, rows cut mid-range.
        add(out, SeparableConv2d.builder(45).activation(Activation.RELU).build(), 1, 40, 19, 19);
        add(out, SeparableConv2d.builder(10).depthwiseBias(true).build(), 1, 6, 33, 41);
        add(out, SeparableConv2d.builder(4).kernel(5).padding(Padding.SAME_LOWER).build(), 1, 3, 40, 50);
        add(out, SeparableConv2d.builder(7).stride(2).multiplier(2).between(Activation.RELU).build(), 2, 5, 29, 31);
        // The depthwise half's layouts in bands of rows: compact (stride 1, rows narrower than a
        // vector, and wider), halves (stride 2, padding on the left or not).
        add(out, SeparableConv2d.builder(20).multiplier(2).build(), 2, 9, 30, 7);
        add(out, SeparableConv2d.builder(12).padding(Padding.explicit(2, 0, 0, 2)).build(), 1, 10, 27, 21);
        add(out, SeparableConv2d.builder(9).stride(2).build(), 1, 8, 40, 34);
        add(out, SeparableConv2d.builder(9).stride(2).depthwiseBias(true).build(), 1, 8, 31, 15);
        return out;
    }

    private static void add(List<Case> out, SeparableConv2d op, int n, int c, int h, int w) {
        Shape in = Shape.nchw(n, c, h, w);
        try {
            Conv2d.Geometry g = op.depthwise(in).geometry(in);
            // Skip cases that are zero by construction: some output whose every tap is padding.
            if (allTapsInside(g.h(), g.oh(), g.sh(), g.padTop(), g.kh(), g.dh())
                    && allTapsInside(g.w(), g.ow(), g.sw(), g.padLeft(), g.kw(), g.dw())) {
                out.add(new Case(op, in));
            }
        } catch (IllegalArgumentException e) {
            // A window that does not fit: not a case.
        }
    }

    /** Whether every output position along an axis has at least one tap inside the input. */
    private static boolean allTapsInside(int in, int out, int stride, int pad, int k, int d) {
        for (int o = 0; o < out; o++) {
            boolean any = false;
            for (int t = 0; t < k && !any; t++) {
                int i = o * stride - pad + t * d;
                any = i >= 0 && i < in;
            }
            if (!any) {
                return false;
            }
        }
        return true;
    }

    @Test
    void theSweepCrossesTheKernelsChunkSizes() {
        List<Case> cs = cases();
        assertTrue(cs.size() >= 150, "cases: " + cs.size());
        long overChunk = cs.stream().filter(c -> c.input().c() * c.op().multiplier() > 32).count();
        long overBlock = cs.stream().filter(c -> c.op().outChannels() > 64).count();
        long multiplied = cs.stream().filter(c -> c.op().multiplier() > 1).count();
        assertTrue(overChunk >= 20 && overBlock >= 10 && multiplied >= 30,
                "channels over one chunk " + overChunk + ", outputs over one block " + overBlock + ", multipliers " + multiplied);
    }

    @TestFactory
    Stream<DynamicTest> fusedMatchesTheReference() {
        List<Case> cs = cases();
        return devices.stream().flatMap(d -> cs.stream().map(c -> DynamicTest.dynamicTest(d.name() + " " + c,
                () -> OpHarness.check(d, c.op(), List.of(c.input()),
                        args -> SeparableConv2dRef.forward(c.op(), c.input(), args), TOLERANCE))));
    }

    @Test
    void fusedEqualsTheTwoConvolutionsOnEveryDevice() {
        Shape in = Shape.nchw(2, 40, 11, 9);
        SeparableConv2d sep = SeparableConv2d.builder(72).stride(2).multiplier(2).depthwiseBias(true)
                .between(Activation.RELU).activation(Activation.RELU).build();
        Allocator host = Allocator.root("sepconv host");
        try (Model fused = Model.builder("fused", in).add("sep", sep).build(3);
                Model split = Model.builder("split", in).add("dw", sep.depthwise(in)).add("pw", sep.pointwise()).build(3);
                Tensor x = Tensor.allocate(in, DType.F32, host, "x").fillUniform(4, -1f, 1f)) {
            // Same parameters in both models.
            List<Tensor> fp = fused.parameters("sep");
            split.parameters("dw").get(0).copyFrom(fp.get(0));
            split.parameters("dw").get(1).copyFrom(fp.get(1));
            split.parameters("pw").get(0).copyFrom(fp.get(2));
            split.parameters("pw").get(1).copyFrom(fp.get(3));
            for (Device d : devices) {
                try (Session a = Session.open(fused, d); Session b = Session.open(split, d);
                        InferenceResult ra = a.run(x, RunOptions.DEFAULT.withHostAllocator(host));
                        InferenceResult rb = b.run(x, RunOptions.DEFAULT.withHostAllocator(host))) {
                    double diff = Compare.maxRelativeDifference(ra.output(), rb.output());
                    assertTrue(diff <= 1e-5, d.name() + ": fused vs two convolutions " + diff);
                    // The fused run never holds the intermediate: its peak is input + output only.
                    assertEquals(in.byteSize(DType.F32) + sep.outputShape(in).byteSize(DType.F32), ra.peakActivationBytes());
                    assertTrue(rb.peakActivationBytes() > ra.peakActivationBytes());
                }
            }
        } finally {
            host.close();
        }
    }
}
