package org.convkit.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.exec.InferenceResult;
import org.convkit.exec.RunOptions;
import org.convkit.exec.Session;
import org.convkit.memory.Allocator;
import org.convkit.ops.Conv2d;
import org.convkit.ops.ref.Conv2dRef;
import org.convkit.tensor.Compare;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The seed network (seed.md section 2): its numbers, and its run on every device against the reference. */
@ExtendWith(HostLeakCheck.class)
class SeedNetTest {
    private static Model model;
    private static Allocator host;
    private static Tensor input;
    /** The reference's output of every layer, each layer fed the reference's previous output. */
    private static List<double[]> reference;

    @BeforeAll
    static void buildAndComputeTheReference() {
        model = SeedNet.build(1, 7);
        host = Allocator.root("seed test host");
        input = Tensor.allocate(model.inputShape(), DType.F32, host, "input").fillUniform(8, -1f, 1f);
        reference = new ArrayList<>();
        float[] x = input.toFloatArray();
        for (Layer l : model.layers()) {
            List<Tensor> p = model.parameters(l.name());
            double[] y = Conv2dRef.forward(((Conv2d) l.op()).geometry(l.inputShapes().get(0)), x, p.get(0).toFloatArray(),
                    p.get(1).toFloatArray()).y();
            reference.add(y);
            x = new float[y.length];
            for (int i = 0; i < y.length; i++) {
                x[i] = (float) y[i];
            }
        }
    }

    @AfterAll
    static void close() {
        input.close();
        host.close();
        model.close();
    }

    @Test
    void parametersShapesAndFlopsAreTheSeedNumbers() {
        assertEquals(903_400, model.parameterCount());
        assertEquals(3_613_600, model.parameterBytes(DType.F32));
        assertEquals(List.of(2_800L, 180_200L, 720_400L), model.layers().stream().map(Layer::parameterCount).toList());
        assertEquals(List.of(Shape.nchw(1, 100, 100, 150), Shape.nchw(1, 200, 50, 75), Shape.nchw(1, 400, 25, 38)),
                model.layers().stream().map(Layer::outputShape).toList());
        // Activations per instance: 6,000,000 + 3,000,000 + 1,520,000 B; the input 720,000 B.
        assertEquals(List.of(6_000_000L, 3_000_000L, 1_520_000L),
                model.layers().stream().map(l -> l.outputShape().byteSize(DType.F32)).toList());
        assertEquals(720_000, model.inputShape().byteSize(DType.F32));
        assertEquals(2L * (100 * 150 * 100 * 27 + 50 * 75 * 200 * 900 + 25 * 38 * 400 * 1800), model.flops());
        // Parameters live in the model's own host allocator.
        assertEquals(3_613_600, model.allocator().liveBytes());
    }

    @Test
    void everyDeviceMatchesTheReferenceFreesEagerlyAndMeasuresTheOptimalFootprint() {
        for (var info : TestDevices.all()) {
            try (Device d = Backends.system().open(info.name()); Session s = Session.open(model, d)) {
                assertEquals(3_613_600, s.allocator().liveBytes(), "the parameters, uploaded once");
                for (int run = 0; run < 2; run++) {
                    try (InferenceResult r = s.run(input, RunOptions.DEFAULT.withHostAllocator(host).withCaptureLayers(true))) {
                        assertEquals(d.name(), r.device());
                        assertEquals(Shape.nchw(1, 400, 25, 38), r.output().shape());
                        for (int i = 0; i < reference.size(); i++) {
                            checkAgainstReference(d.name() + " " + r.layers().get(i).layer(), r.layers().get(i).output(),
                                    reference.get(i));
                        }
                        // Eager freeing: at most two consecutive activations live, conv1 + conv2.
                        assertEquals(9_000_000, r.peakActivationBytes());
                    }
                }
                assertEquals(12_613_600, s.allocator().peakBytes(), "optimal inference footprint, seed.md section 2");
                assertEquals(3_613_600, s.allocator().liveBytes(), "only the parameters stay between runs");
            }
        }
    }

    /** Largest |y - ref| relative to the reference's largest magnitude: the demo's metric, its tolerance. */
    private static void checkAgainstReference(String what, Tensor y, double[] ref) {
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            float v = y.get(i);
            if (!Float.isFinite(v)) {
                fail(what + ": element " + i + " is " + v);
            }
            maxDiff = Math.max(maxDiff, Math.abs(v - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        assertTrue(maxRef > 0, what + ": an all-zero reference proves nothing");
        double rel = maxDiff / maxRef;
        assertTrue(rel <= 1e-5, String.format(Locale.ROOT, "%s: max rel diff %.3g", what, rel));
    }

    @Test
    void devicesAgreeWithEachOther() {
        List<Tensor> outputs = new ArrayList<>();
        try {
            for (var info : TestDevices.all()) {
                try (Device d = Backends.system().open(info.name()); Session s = Session.open(model, d);
                        InferenceResult r = s.run(input, RunOptions.DEFAULT.withHostAllocator(host))) {
                    Tensor copy = Tensor.allocate(r.output().shape(), DType.F32, host, "output of " + d.name());
                    copy.copyFrom(r.output());
                    outputs.add(copy);
                }
            }
            for (Tensor o : outputs.subList(1, outputs.size())) {
                double rel = Compare.maxRelativeDifference(o, outputs.get(0));
                assertTrue(rel <= 1e-4, o + " vs " + outputs.get(0) + ": " + rel);
            }
        } finally {
            outputs.forEach(Tensor::close);
        }
    }

    @Test
    void sessionsRejectWrongInputsAndUseAfterClose() {
        try (Device d = Backends.system().open("cpu");
                Tensor wrong = Tensor.allocate(Shape.nchw(1, 3, 300, 200), DType.F32, host, "wrong")) {
            Session s = Session.open(model, d);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(wrong));
            assertTrue(e.getMessage().contains("1x3x200x300") && e.getMessage().contains("1x3x300x200"), e.getMessage());
            s.close();
            assertThrows(IllegalStateException.class, () -> s.run(input));
        }
    }

    @Test
    void modelsCheckTheirLayersFitTogether() {
        Graph.Builder b = Model.builder("bad", Shape.nchw(1, 3, 8, 8))
                .add("conv1", Conv2d.builder(4).kernel(3).build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.add("conv2", Conv2d.builder(4).kernel(7).build()));
        assertTrue(e.getMessage().contains("conv2") && e.getMessage().contains("conv1") && e.getMessage().contains("1x4x6x6"),
                e.getMessage());
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
                () -> b.add("conv1", Conv2d.builder(4).build()));
        assertTrue(dup.getMessage().contains("already used"), dup.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> b.add("conv3", Conv2d.builder(4).build(), "nowhere"));
        assertTrue(missing.getMessage().contains("nowhere"), missing.getMessage());
    }
}
