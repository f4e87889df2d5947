package org.convkit.ops.grad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.convkit.backend.Device;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.memory.Allocator;
import org.convkit.ops.Activation;
import org.convkit.ops.Padding;
import org.convkit.ops.SeparableConv2d;
import org.convkit.ops.SqueezeExcite;
import org.convkit.ops.ref.SeparableConv2dGradRef;
import org.convkit.ops.ref.SqueezeExciteGradRef;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.GradCase;
import org.convkit.testing.GradCheck;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The backward pass of the fused blocks, whose gradients are {@link Composite}s over their parts:
 * squeeze-and-excitation (ratios giving one to several hidden units, planes of 1 pixel and more)
 * and the separable convolution (kernel sizes, strides, dilation, SAME / VALID / explicit pads,
 * channel multipliers, either bias, ReLU between the halves and after). A composite also runs with
 * its workspace a view of a planned arena, as a session gives it.
 *
 * <p>Device tolerance: 1e-5 of the magnitudes, which the references carry through the chains
 * (every intermediate's sum of |terms| propagated through the later sums).
 */
class CompositeGradTest extends GradSweep {
    @Override
    String family() {
        return "squeeze_excite, sepconv2d";
    }

    static List<GradCase> cases(boolean large) {
        List<GradCase> out = new ArrayList<>();
        List<Shape> seShapes = large ? List.of(Shape.nchw(2, 32, 7, 9), Shape.nchw(3, 20, 1, 1), Shape.nchw(1, 48, 5, 5))
                : List.of(Shape.nchw(2, 4, 3, 2), Shape.nchw(1, 6, 1, 1), Shape.nchw(2, 8, 2, 3));
        int[] ratios = {2, 16, 1};
        for (int i = 0; i < seShapes.size(); i++) {
            SqueezeExcite se = SqueezeExcite.of(ratios[i]);
            Shape in = seShapes.get(i);
            out.add(GradCase.of(se, List.of(in), new SqueezeExciteGradRef(se.geometry(in))));
        }
        List<SeparableConv2d> seps = List.of(
                SeparableConv2d.builder(5).kernel(3).padding(Padding.SAME).build(),
                SeparableConv2d.builder(4).kernel(3).stride(2).multiplier(2).depthwiseBias(true).pointwiseBias(false)
                        .between(Activation.RELU).build(),
                SeparableConv2d.builder(3).kernel(2, 3).padding(Padding.explicit(1, 0, 0, 2)).dilation(2, 1)
                        .activation(Activation.RELU).build(),
                SeparableConv2d.builder(6).kernel(3).padding(Padding.VALID).depthwiseBias(true)
                        .between(Activation.RELU).activation(Activation.RELU).build());
        Shape sepIn = large ? Shape.nchw(2, 6, 11, 9) : Shape.nchw(1, 3, 5, 4);
        for (SeparableConv2d s : seps) {
            out.add(GradCase.of(s, List.of(sepIn), new SeparableConv2dGradRef(s, sepIn)));
        }
        return out;
    }

    @Override
    List<GradCase> fdCases() {
        return cases(false);
    }

    @Override
    List<GradCase> deviceCases() {
        List<GradCase> out = new ArrayList<>(cases(false));
        out.addAll(cases(true));
        return out;
    }

    /** The input gradient of each block with its workspace a view at an offset of an arena. */
    @TestFactory
    Stream<DynamicTest> aCompositeRunsInAPlannedArena() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Device d : devices) {
            for (GradCase c : cases(true)) {
                Gradient g = c.op().gradients(c.inputs()).get(0);
                tests.add(DynamicTest.dynamicTest(d.name() + " " + g.op().describe(GradCheck.operandShapes(c, g)),
                        () -> runInArena(d, c, g)));
            }
        }
        return tests.stream();
    }

    private static void runInArena(Device d, GradCase c, Gradient g) {
        List<Shape> shapes = GradCheck.operandShapes(c, g);
        GradCase.State s = c.state();
        Allocator host = Allocator.root("arena test host");
        List<DeviceBuffer> args = new ArrayList<>();
        try (Kernel k = d.prepare(g.op(), shapes)) {
            long ws = k.workspaceBytes();
            assertTrue(ws > 0, "a composite keeps its intermediates in its workspace");
            long offset = 4 * d.viewAlignment();
            for (int i = 0; i < shapes.size(); i++) {
                Gradient.Operand o = g.operands().get(i);
                float[] v = switch (o.kind()) {
                    case OUTPUT_GRADIENT -> s.dy();
                    case OUTPUT -> s.y();
                    case INPUT -> s.args().get(o.index());
                    case PARAMETER -> s.args().get(c.op().arity() + o.index());
                };
                try (Tensor t = Tensor.of(shapes.get(i), v, host, "operand")) {
                    DeviceBuffer b = d.allocate(t.byteSize(), "operand " + i);
                    args.add(b);
                    d.upload(t, b);
                }
            }
            Shape out = k.outputShape();
            try (DeviceBuffer arena = d.allocate(offset + ws + d.viewAlignment(), "arena");
                    DeviceBuffer view = d.view(arena, offset, ws, "workspace view");
                    DeviceBuffer o1 = d.allocate(out.byteSize(DType.F32), "out 1");
                    DeviceBuffer o2 = d.allocate(out.byteSize(DType.F32), "out 2");
                    DeviceBuffer own = d.allocate(ws, "own workspace");
                    Tensor r1 = Tensor.allocate(out, DType.F32, host, "r1");
                    Tensor r2 = Tensor.allocate(out, DType.F32, host, "r2")) {
                k.run(args, o1, view);
                k.run(args, o2, own);
                d.download(o1, r1);
                d.download(o2, r2);
                float[] a = r1.toFloatArray();
                float[] b = r2.toFloatArray();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(Float.floatToRawIntBits(b[i]), Float.floatToRawIntBits(a[i]), "element " + i);
                }
            }
        } finally {
            args.forEach(DeviceBuffer::close);
            host.close();
        }
        assertEquals(0, d.allocator().liveBytes(), d.allocator()::tree);
    }

    @Test
    void eachTermReadsWhatItsChainNeeds() {
        Shape in = Shape.nchw(1, 3, 5, 5);
        List<Gradient> plain = SeparableConv2d.builder(4).kernel(3).build().gradients(List.of(in));
        assertEquals(4, plain.size());
        // The input's: dt from dy and the pointwise weight, then the depthwise weight; x is not read.
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.parameter(0), Gradient.Operand.parameter(1)),
                plain.get(0).operands());
        // The depthwise weight's: dt, then x.
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.input(0), Gradient.Operand.parameter(1)),
                plain.get(1).operands());
        // The pointwise weight's: the depthwise result recomputed from x and the depthwise weight.
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.input(0), Gradient.Operand.parameter(0)),
                plain.get(2).operands());
        assertEquals(List.of(Gradient.Operand.dy()), plain.get(3).operands());
        List<Gradient> se = SqueezeExcite.of(4).gradients(List.of(Shape.nchw(1, 8, 2, 2)));
        assertEquals(5, se.size());
        assertEquals(6, se.get(0).operands().size());
    }
}
