package org.convkit.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.convkit.backend.Device;
import org.convkit.backend.plan.Conv2dPlan;
import org.convkit.backend.plan.Conv2dTuning;
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
 * Every conv2d.cl entry the host can pick ({@link Conv2dPlan.Path}) against {@link Conv2dRef}, on
 * every OpenCL device, with the device's own tuning data and with the generic-GPU data (which a
 * CPU driver runs as well: their grids, work-groups and row-copy lanes are exercised here even
 * where no GPU is). The cases are chosen to reach each path with what can go wrong in it: sizes
 * that are not multiples of the tiles, channel counts that are not multiples of the register
 * blocks or tiles, groups, dilation, strides 1 to 3, every padding mode and pads larger than the
 * kernel, several K chunks, batches, bias and ReLU; each tuning's coverage of all that is
 * asserted. Checks and tolerance are {@link org.convkit.backend.Conv2dConsistencyTest}'s
 * (1e-5 of the sum of |terms|, outputs poisoned with NaN first).
 */
public class ClConv2dPathsTest extends OnEveryDevice {
    public static final double TOLERANCE = 1e-5;

    /** A convolution and its input shape. */
    public record Case(Conv2d conv, Shape input) {
        public Conv2d.Geometry geometry() {
            return conv.geometry(input);
        }

        @Override
        public String toString() {
            return conv.describe(input);
        }
    }

    /** The sweep, shared with the CUDA host's tests (which plan the same cases with the GPU data). */
    public static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        // Tiled: odd sizes, channels not multiples of anything, batches, several K chunks.
        add(out, Conv2d.builder(70).kernel(3).padding(Padding.SAME).activation(Activation.RELU).build(), 1, 37, 13, 21);
        add(out, Conv2d.builder(24).kernel(3).stride(2).padding(Padding.SAME).build(), 2, 70, 17, 19);
        add(out, Conv2d.builder(33).kernel(5).stride(3).padding(Padding.SAME_LOWER).bias(false).build(), 1, 13, 29, 31);
        add(out, Conv2d.builder(40).kernel(3, 5).stride(1, 2).padding(Padding.explicit(2, 0, 1, 3)).build(), 1, 16, 15, 27);
        add(out, Conv2d.builder(16).kernel(3).dilation(2).padding(Padding.SAME).build(), 1, 8, 19, 23);
        add(out, Conv2d.builder(20).kernel(3).dilation(3, 2).build(), 1, 6, 20, 18);
        add(out, Conv2d.builder(80).kernel(3).groups(2).padding(Padding.SAME).activation(Activation.RELU).build(), 1, 24, 11, 13);
        add(out, Conv2d.builder(64).kernel(3).stride(2).groups(4).padding(Padding.explicit(4)).build(), 2, 8, 9, 10);
        add(out, Conv2d.builder(64).kernel(7).stride(2).padding(Padding.SAME).bias(false).build(), 1, 3, 37, 41);
        add(out, Conv2d.builder(24).kernel(7).padding(Padding.SAME).build(), 1, 13, 12, 14);
        add(out, Conv2d.builder(48).kernel(1).stride(2).build(), 1, 20, 15, 17);
        add(out, Conv2d.builder(40).kernel(1).padding(Padding.explicit(1)).build(), 1, 9, 6, 7);
        add(out, Conv2d.builder(32).kernel(1, 7).padding(Padding.SAME).build(), 1, 10, 12, 30);
        add(out, Conv2d.builder(32).kernel(7, 1).stride(2, 1).padding(Padding.SAME).build(), 1, 10, 30, 12);
        add(out, Conv2d.builder(24).kernel(3).stride(3).dilation(2).padding(Padding.SAME).build(), 1, 5, 25, 26);
        add(out, Conv2d.builder(8).kernel(3).padding(Padding.SAME).build(), 1, 4, 40, 70);
        add(out, Conv2d.builder(24).kernel(3).stride(3, 1).padding(Padding.VALID).activation(Activation.RELU).build(), 2, 9, 28, 35);
        add(out, Conv2d.builder(16).kernel(9).padding(Padding.SAME).build(), 1, 4, 12, 12);
        // 1x1, stride 1, unpadded: pixel counts and channels off the tiles, groups, long K.
        add(out, Conv2d.builder(70).kernel(1).activation(Activation.RELU).build(), 1, 40, 7, 9);
        add(out, Conv2d.builder(64).kernel(1).groups(2).build(), 2, 16, 10, 10);
        add(out, Conv2d.builder(60).kernel(1).build(), 1, 300, 9, 14);
        add(out, Conv2d.builder(130).kernel(1).bias(false).build(), 1, 17, 16, 16);
        add(out, Conv2d.builder(36).kernel(1).build(), 1, 8, 33, 5);
        // Depthwise: multipliers, strides 1 to 3, dilation, rows shorter and longer than a vector.
        add(out, Conv2d.builder(16).kernel(3).groups(16).padding(Padding.SAME).activation(Activation.RELU).build(), 1, 16, 20, 40);
        add(out, Conv2d.builder(8).kernel(3).stride(2).groups(8).padding(Padding.SAME).build(), 1, 8, 21, 70);
        add(out, Conv2d.builder(24).kernel(5).groups(12).padding(Padding.SAME_LOWER).build(), 1, 12, 9, 11);
        add(out, Conv2d.builder(6).kernel(3).stride(3).dilation(2).groups(6).padding(Padding.explicit(2, 1, 0, 3)).build(), 1, 6, 30, 31);
        add(out, Conv2d.builder(12).kernel(3, 1).groups(4).bias(false).build(), 2, 4, 8, 17);
        add(out, Conv2d.builder(5).kernel(3).padding(Padding.SAME).build(), 1, 1, 18, 19);
        // Direct: too few real outputs in the register blocks, or more taps than a K chunk holds.
        add(out, Conv2d.builder(9).kernel(5).stride(2).groups(3).build(), 2, 6, 11, 13);
        add(out, Conv2d.builder(4).kernel(5).build(), 1, 3, 5, 5);
        add(out, Conv2d.builder(2).kernel(3).groups(2).padding(Padding.SAME).build(), 1, 6, 7, 9);
        add(out, Conv2d.builder(16).kernel(25).build(), 1, 2, 30, 30);
        return out;
    }

    private static void add(List<Case> out, Conv2d conv, int n, int c, int h, int w) {
        Case k = new Case(conv, Shape.nchw(n, c, h, w));
        k.geometry();
        out.add(k);
    }

    /** The tuning data a device uses, and the GPU data, which every OpenCL device runs too. */
    private static List<Conv2dTuning> tunings(ClDevice cl) {
        return cl.conv2dTuning() == Conv2dTuning.GPU ? List.of(Conv2dTuning.GPU)
                : List.of(cl.conv2dTuning(), Conv2dTuning.GPU);
    }

    private Stream<ClDevice> openClDevices() {
        return devices.stream().filter(d -> d instanceof ClDevice).map(d -> (ClDevice) d);
    }

    @TestFactory
    Stream<DynamicTest> everyPathMatchesTheReference() {
        List<Case> cs = cases();
        return openClDevices().flatMap(cl -> tunings(cl).stream().flatMap(t -> cs.stream().map(c -> {
            Conv2dPlan p = plan(cl, t, c);
            return DynamicTest.dynamicTest(cl.name() + " " + t.id() + " " + p.path().entry() + " " + c,
                    () -> check(cl, t, c));
        })));
    }

    @Test
    void everyPathIsTakenWithWhatCanGoWrongInIt() {
        openClDevices().forEach(cl -> tunings(cl).forEach(t -> assertCoverage(cl.name() + " " + t.id(), t,
                c -> plan(cl, t, c))));
    }

    /** The policy alone, for both tables with the limits of a typical device of their kind: so a GPU run covers every path too. */
    @Test
    void theSweepCoversEveryPathForEveryTuning() {
        assertCoverage("cpu table", Conv2dTuning.CPU,
                c -> Conv2dPlan.of(c.geometry(), Conv2dTuning.CPU, new Conv2dPlan.Limits(4096, 512 * 1024, 2)));
        assertCoverage("gpu table", Conv2dTuning.GPU,
                c -> Conv2dPlan.of(c.geometry(), Conv2dTuning.GPU, new Conv2dPlan.Limits(1024, 48 * 1024, 80)));
    }

    @Test
    void devicesOfEachKindGetTheirTable() {
        assertEquals(Conv2dTuning.CPU, Conv2dTuning.forDevice(org.convkit.backend.DeviceInfo.Kind.CPU, "AuthenticAMD",
                "pthread-skylake-avx512-AMD EPYC 9B45"));
        assertEquals(Conv2dTuning.GPU, Conv2dTuning.forDevice(org.convkit.backend.DeviceInfo.Kind.GPU,
                "NVIDIA Corporation", "NVIDIA H200"));
        assertEquals(Conv2dTuning.GPU, Conv2dTuning.forDevice(org.convkit.backend.DeviceInfo.Kind.OTHER, "x", "y"));
    }

    private static Conv2dPlan plan(ClDevice cl, Conv2dTuning t, Case c) {
        return Conv2dPlan.of(c.geometry(), t, ClConv2d.limits(cl));
    }

    private static void check(ClDevice cl, Conv2dTuning t, Case c) {
        Conv2d.Geometry g = c.geometry();
        OpHarness.check(cl, c.conv(), List.of(c.input()), args -> {
            Conv2dRef.Result r = Conv2dRef.forward(g, args.get(0), args.get(1), g.bias() ? args.get(2) : null);
            return new OpHarness.Expected(r.y(), r.magnitude());
        }, TOLERANCE, OpHarness.UNIFORM, (Device d, org.convkit.ops.Op op, List<Shape> in) -> {
            ClConv2d k = new ClConv2d((ClDevice) d, (Conv2d) op, in.get(0), t);
            assertEquals(plan(cl, t, c).path(), k.path(), "the kernel launches the plan's entry");
            return k;
        });
    }

    @FunctionalInterface
    private interface Planner {
        Conv2dPlan plan(Case c);
    }

    /** Each path taken, and within each the features the cases are there for. */
    private static void assertCoverage(String what, Conv2dTuning t, Planner planner) {
        Map<Conv2dPlan.Path, Integer> taken = new EnumMap<>(Conv2dPlan.Path.class);
        TreeSet<String> tiled = new TreeSet<>();
        TreeSet<String> pointwise = new TreeSet<>();
        TreeSet<String> depthwise = new TreeSet<>();
        for (Case c : cases()) {
            Conv2d.Geometry g = c.geometry();
            Conv2dPlan p = planner.plan(c);
            taken.merge(p.path(), 1, Integer::sum);
            switch (p.path()) {
                case TILED -> {
                    Conv2dTuning.TileShape s = p.shape();
                    tiled.add("stride " + g.sh());
                    tiled.add("stride " + g.sw());
                    String pad = c.conv().padding().id();
                    tiled.add("pad " + (pad.startsWith("pads") ? "explicit" : pad));
                    tiled.add((g.dh() > 1 || g.dw() > 1) ? "dilated" : "undilated");
                    tiled.add(g.groups() > 1 ? "grouped" : "ungrouped");
                    tiled.add(g.n() > 1 ? "batch" : "single");
                    tiled.add(g.bias() ? "bias" : "no bias");
                    tiled.add(g.activation() == Activation.RELU ? "relu" : "linear");
                    if (g.oh() % s.toh() != 0 && g.ow() % s.tow() != 0) {
                        tiled.add("pixels off the tile");
                    }
                    if (g.ocPerGroup() % s.tm() != 0) {
                        tiled.add("channels off the tile");
                    }
                    if (g.ocPerGroup() % t.tiled().rm() != 0) {
                        tiled.add("channels off the block");
                    }
                    if (g.cPerGroup() > chunk(g, t, s)) {
                        tiled.add("several K chunks");
                    }
                    if (g.padTop() > g.kh() || g.padLeft() > g.kw()) {
                        tiled.add("pads beyond the kernel");
                    }
                }
                case POINTWISE -> {
                    long pixels = (long) g.h() * g.w();
                    if (pixels % t.pointwise().tp() != 0) {
                        pointwise.add("pixels off the tile");
                    }
                    if (g.ocPerGroup() % t.pointwise().rm() != 0) {
                        pointwise.add("channels off the block");
                    }
                    pointwise.add(g.groups() > 1 ? "grouped" : "ungrouped");
                    if (g.cPerGroup() > t.pointwise().kc()) {
                        pointwise.add("several K chunks");
                    }
                    pointwise.add(g.n() > 1 ? "batch" : "single");
                }
                case DEPTHWISE -> {
                    depthwise.add("stride " + g.sh());
                    depthwise.add(g.oc() > g.c() ? "multiplier" : "one per channel");
                    if (g.dh() > 1 || g.dw() > 1) {
                        depthwise.add("dilated");
                    }
                    if (g.ow() % t.depthwise().rw() != 0) {
                        depthwise.add("columns off the vector");
                    }
                    if (g.w() >= 2 * t.depthwise().rw() + 2) {
                        depthwise.add("rows of whole vectors");
                    }
                }
                case DIRECT -> {
                }
            }
        }
        for (Conv2dPlan.Path p : Conv2dPlan.Path.values()) {
            assertTrue(taken.getOrDefault(p, 0) >= 2, what + ": " + p.entry() + " taken " + taken.getOrDefault(p, 0)
                    + " times (" + taken + ")");
        }
        assertTrue(tiled.containsAll(List.of("stride 1", "stride 2", "stride 3", "pad same", "pad same_lower", "pad valid",
                "pad explicit", "dilated", "grouped", "batch", "bias", "no bias", "relu", "pixels off the tile",
                "channels off the tile", "channels off the block", "several K chunks", "pads beyond the kernel")),
                what + ": conv2d_tiled covers " + tiled);
        assertTrue(pointwise.containsAll(List.of("pixels off the tile", "channels off the block", "grouped",
                "several K chunks", "batch")), what + ": conv2d_1x1 covers " + pointwise);
        List<String> dw = new ArrayList<>(List.of("stride 1", "stride 2", "stride 3", "multiplier", "one per channel",
                "dilated", "rows of whole vectors"));
        if (t.depthwise().rw() > 1) {
            dw.add("columns off the vector");
        }
        assertTrue(depthwise.containsAll(dw), what + ": conv2d_depthwise covers " + depthwise);
    }

    /** Input channels per K chunk of conv2d_tiled, as the kernel computes it. */
    private static int chunk(Conv2d.Geometry g, Conv2dTuning t, Conv2dTuning.TileShape s) {
        int rows = (s.toh() - 1) * g.sh() + (g.kh() - 1) * g.dh() + 1;
        int cpp = s.tow() + (g.kw() - 1) * g.dw() / g.sw();
        int patch = rows * g.sw() * cpp;
        return Math.min(g.cPerGroup(), Math.min(t.tiled().xs() / patch, t.tiled().kc() / (g.kh() * g.kw())));
    }
}
