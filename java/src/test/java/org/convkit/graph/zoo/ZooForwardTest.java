package org.convkit.graph.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.exec.ExecutionMode;
import org.convkit.exec.InferenceResult;
import org.convkit.exec.RunOptions;
import org.convkit.exec.Session;
import org.convkit.graph.Layer;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.ops.Softmax;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One forward pass of every zoo model at batch 1, random parameters and input, in a planned
 * session on every device; every device's output must agree with the CPU backend's.
 *
 * <p><b>Metric and tolerance</b>: {@code max |y - y_cpu| / max |y_cpu|}, the demo's metric, at
 * most {@value #TOLERANCE}, the tolerance the demo and {@code SeedNetTest} use between devices.
 * Measured here (PoCL 3.1 against the CPU backend, 2 vCPUs of AMD EPYC Zen 5, this test's seeds):
 * from 2.4e-7 (LeNet-5) to 7.4e-6 (AlexNet's probabilities) on the outputs, at most 2.3e-6 on the
 * logits. The tolerance leaves a margin of more than ten for devices that contract multiply-adds
 * or sum in another order, while a wrong tap, pad, group or branch moves the result by a sizeable
 * fraction of its magnitude. The differences grow with depth and with the length of the
 * reductions (9,216 terms in AlexNet's fc6), and are largest relative to a softmax's largest
 * probability.
 *
 * <p>A softmax output can say nothing: with random weights (batch normalization with random
 * statistics does not normalize) Xception's logits reach about 1e7 and its softmax is one-hot on
 * every device. Models that end in a softmax are therefore also compared on their logits, the
 * softmax's input, captured on the host.
 *
 * <p>In a planned session the device allocator's peak must also be the parameters plus the
 * arena the session planned: the zoo's DAGs (concatenations, residuals, SE branches) are planned
 * and measured to the byte.
 */
@ExtendWith(HostLeakCheck.class)
class ZooForwardTest {
    /** Largest device-vs-CPU difference relative to the CPU output's largest magnitude. */
    static final double TOLERANCE = 1e-4;

    static List<String> models() {
        return Zoo.names();
    }

    /** What one device computed: the output and, for a model ending in softmax, its logits. */
    private record Outputs(float[] output, float[] logits) {
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void oneForwardPassAgreesWithTheCpuOnEveryDevice(String name) {
        ZooModel zoo = Zoo.find(name);
        Allocator host = Allocator.host().child("zoo forward " + name);
        Map<String, Outputs> byDevice = new LinkedHashMap<>();
        try (Model model = zoo.build(1, 20_240_601L);
                Tensor input = Tensor.allocate(model.inputShape(), DType.F32, host, "input").fillUniform(5, -1f, 1f)) {
            List<Layer> layers = model.layers();
            boolean softmax = layers.get(layers.size() - 1).op() instanceof Softmax;
            for (DeviceInfo info : TestDevices.all()) {
                try (Device d = Backends.system().open(info.name());
                        Session s = Session.open(model, d, ExecutionMode.PLANNED);
                        InferenceResult r = s.run(input, RunOptions.DEFAULT.withHostAllocator(host).withCaptureLayers(softmax))) {
                    assertEquals(Shape.of(1, zoo.classes()), r.output().shape(), name + " on " + d.name());
                    float[] logits = softmax ? finite(name + " logits on " + d.name(),
                            r.layers().get(layers.size() - 2).output().toFloatArray()) : null;
                    byDevice.put(d.name(), new Outputs(finite(name + " on " + d.name(), r.output().toFloatArray()), logits));
                    assertEquals(model.parameterBytes(DType.F32) + s.plan().arenaBytes(), s.allocator().peakBytes(),
                            name + " on " + d.name() + ": measured peak vs parameters + planned arena");
                }
            }
        } finally {
            host.close();
        }
        Outputs cpu = byDevice.get("cpu");
        for (Map.Entry<String, Outputs> e : byDevice.entrySet()) {
            if (e.getKey().equals("cpu")) {
                continue;
            }
            check(name + " output, " + e.getKey() + " vs cpu", e.getValue().output(), cpu.output());
            if (cpu.logits() != null) {
                check(name + " logits, " + e.getKey() + " vs cpu", e.getValue().logits(), cpu.logits());
            }
        }
    }

    private static float[] finite(String what, float[] y) {
        for (int i = 0; i < y.length; i++) {
            if (!Float.isFinite(y[i])) {
                fail(what + ": element " + i + " is " + y[i]);
            }
        }
        return y;
    }

    private static void check(String what, float[] y, float[] ref) {
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs((double) y[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        assertTrue(maxRef > 0, what + ": an all-zero reference proves nothing");
        double rel = maxDiff / maxRef;
        System.out.printf(Locale.ROOT, "[zoo] %s: max |diff| / max |cpu| = %.2g (max |cpu| %.4g)%n", what, rel, maxRef);
        assertTrue(rel <= TOLERANCE, String.format(Locale.ROOT, "%s: max rel diff %.3g > %.0e", what, rel, TOLERANCE));
    }
}
