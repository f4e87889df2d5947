package org.convkit.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.exec.InferenceResult;
import org.convkit.exec.RunOptions;
import org.convkit.exec.Session;
import org.convkit.graph.Graph;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.tensor.Compare;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.SharedData;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * ONNX model import on the six real architectures of ../shared/conformance/onnx/light.
 *
 * <p>Their reference outputs are uniform (every weight in those files is one constant, so all
 * 1000 logits are equal and the softmax gives 0.001 each): matching them (ConformanceTest) proves
 * that the import runs end to end, not the arithmetic. Here the same architectures run with random
 * weights on every device, and every device must agree with the CPU backend.
 */
@ExtendWith(HostLeakCheck.class)
class OnnxImportTest {
    /** max |y - y_cpu| / max |y_cpu| of the pre-softmax-free outputs; the per-op sweeps bound each layer at 1e-5. */
    static final double DEVICE_TOLERANCE = 1e-4;

    private static Path light(String name) {
        return SharedData.onnxLight().resolve("light_" + name + ".onnx");
    }

    @Test
    void theArchitecturesHaveTheirPublishedParameterCounts() {
        // Published counts of these exports: bvlc_alexnet 60,965,224 and bvlc_googlenet (no auxiliary
        // classifiers) 6,998,552 (the Caffe reference models); VGG-19 143,667,240 (Simonyan & Zisserman,
        // Table 2: 144M; torchvision vgg19 143,667,240); SqueezeNet 1.1 1,235,496 (torchvision
        // squeezenet1_1). ResNet-50 is Caffe2's: torchvision's 25,557,032 counts batch-norm scale
        // and shift, this export also carries running mean and variance: + 2 x 26,560 = 25,610,152.
        Map<String, Long> published = Map.of("bvlc_alexnet", 60_965_224L, "inception_v1", 6_998_552L,
                "vgg19", 143_667_240L, "squeezenet", 1_235_496L, "resnet50", 25_557_032L + 2 * 26_560L);
        published.forEach((name, count) -> assertEquals(count, OnnxImport.graph(light(name), 1).parameterCount(), name));
        Graph resnet = OnnxImport.graph(light("resnet50"), 8);
        assertEquals(Shape.of(8, 1000), resnet.outputShape());
        assertEquals(Shape.nchw(1, 3, 224, 224), OnnxImport.declaredInput(light("vgg19")));
    }

    @TestFactory
    Stream<DynamicTest> importedArchitecturesWithRandomWeightsAgreeAcrossDevices() {
        List<DynamicTest> out = new ArrayList<>();
        for (String name : List.of("bvlc_alexnet", "inception_v1", "resnet50", "squeezenet", "vgg19", "zfnet512")) {
            out.add(DynamicTest.dynamicTest(name, () -> {
                Graph g = OnnxImport.graph(light(name), 1);
                Allocator host = Allocator.root("import host");
                List<Tensor> outputs = new ArrayList<>();
                try (Model m = Model.withRandomParameters(g, 99);
                        Tensor x = Tensor.allocate(g.inputShape(), DType.F32, host, "x").fillUniform(5, 0f, 1f)) {
                    for (DeviceInfo info : TestDevices.all()) {
                        try (Device d = Backends.system().open(info.name()); Session s = Session.open(m, d);
                                InferenceResult r = s.run(x, RunOptions.DEFAULT.withHostAllocator(host))) {
                            Tensor copy = Tensor.allocate(r.output().shape(), DType.F32, host, info.name());
                            copy.copyFrom(r.output());
                            outputs.add(copy);
                        }
                    }
                    float[] ref = outputs.get(0).toFloatArray();
                    float lo = Float.MAX_VALUE;
                    float hi = -Float.MAX_VALUE;
                    for (float v : ref) {
                        lo = Math.min(lo, v);
                        hi = Math.max(hi, v);
                    }
                    assertTrue(hi > lo, name + ": random weights must give distinct outputs");
                    for (Tensor o : outputs.subList(1, outputs.size())) {
                        double diff = Compare.maxRelativeDifference(o, outputs.get(0));
                        assertTrue(diff <= DEVICE_TOLERANCE, name + " " + o + ": " + diff);
                    }
                } finally {
                    outputs.forEach(Tensor::close);
                    host.close();
                }
            }));
        }
        return out.stream();
    }

    private static OnnxNode node(String op, List<String> in, List<String> out) {
        return new OnnxNode("", op, "", in, out, Map.of());
    }

    @Test
    void everyUnsupportedOperatorIsListedInOneMessage() {
        OnnxValueInfo x = new OnnxValueInfo("x", OnnxTensor.FLOAT, new long[] {1, 3, 8, 8});
        OnnxGraph g = new OnnxGraph("g", List.of(node("Relu", List.of("x"), List.of("a")),
                node("Erf", List.of("a"), List.of("b")), node("Erf", List.of("b"), List.of("c")),
                node("TopK", List.of("c"), List.of("d")), node("Relu", List.of("d"), List.of("y"))),
                List.of(), List.of(x), List.of(new OnnxValueInfo("y", OnnxTensor.FLOAT, new long[0])));
        OnnxImportException e = assertThrows(OnnxImportException.class,
                () -> OnnxImport.load(new OnnxModel(8, "test", Map.of("", 13L), g), null, "two-unsupported"));
        assertTrue(e.getMessage().contains("unsupported operators: Erf (2 nodes), TopK (1 node)"), e.getMessage());
    }

    @Test
    void graphsConvkitCannotRepresentAreRefusedClearly() {
        OnnxValueInfo a = new OnnxValueInfo("a", OnnxTensor.FLOAT, new long[] {1, 4});
        OnnxValueInfo b = new OnnxValueInfo("b", OnnxTensor.FLOAT, new long[] {1, 4});
        OnnxGraph two = new OnnxGraph("g", List.of(node("Add", List.of("a", "b"), List.of("y"))), List.of(),
                List.of(a, b), List.of(new OnnxValueInfo("y", OnnxTensor.FLOAT, new long[0])));
        OnnxImportException inputs = assertThrows(OnnxImportException.class,
                () -> OnnxImport.load(new OnnxModel(8, "test", Map.of("", 13L), two), null, "two-inputs"));
        assertTrue(inputs.getMessage().contains("one input") && inputs.getMessage().contains("reads 2"), inputs.getMessage());
    }
}
