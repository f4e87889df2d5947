package org.convkit.bench.peers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.exec.InferenceResult;
import org.convkit.exec.Session;
import org.convkit.graph.Graph;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.onnx.Onnx;
import org.convkit.onnx.OnnxGraph;
import org.convkit.onnx.OnnxImport;
import org.convkit.onnx.OnnxModel;
import org.convkit.onnx.OnnxNode;
import org.convkit.onnx.OnnxTensor;
import org.convkit.ops.Activation;
import org.convkit.ops.ActivationOp;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.Lrn;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.ops.Softmax;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The ONNX writer and exporter, read back by convkit's own ONNX reader and importer. */
class OnnxExportTest {
    private long hostBefore;

    @BeforeEach
    void noteHost() {
        hostBefore = Allocator.host().liveBytes();
    }

    @AfterEach
    void hostIsBack() {
        assertEquals(hostBefore, Allocator.host().liveBytes(), "host bytes leaked: " + Allocator.host().tree());
    }

    /** Every op the exporter writes, with SAME (asymmetric pads), explicit pads, groups and fused ReLUs. */
    private static Graph everyOp() {
        return Graph.builder("every_op", Shape.nchw(2, 4, 10, 12))
                .add("conv", Conv2d.builder(6).kernel(3).stride(2).padding(Padding.SAME).activation(Activation.RELU).build())
                .add("grouped", Conv2d.builder(6).kernel(3, 1).groups(2).padding(Padding.explicit(1, 0, 2, 0)).bias(false)
                        .build())
                .add("maxpool", Pool2d.max(3).stride(1).padding(Padding.explicit(1)).build())
                .add("lrn", Lrn.onnx(3, 2e-4f, 0.75f, 1.5f))
                .add("lrn_tf", Lrn.tensorflow(1, 2f, 1e-3f, 0.5f))
                .add("avgpool", Pool2d.avg(2).stride(2).countIncludePad(true).padding(Padding.explicit(0, 0, 1, 1)).build())
                .add("relu", ActivationOp.relu())
                .add("flatten", Flatten.DEFAULT)
                .add("dense", Dense.linear(7, true, Activation.RELU))
                .add("softmax", Softmax.lastAxis())
                .graph();
    }

    @Test
    void theWrittenModelReadsBackNodeByNode() {
        try (Model m = Model.withRandomParameters(everyOp(), 11)) {
            OnnxModel read = Onnx.parseModel(OnnxExport.of(m), "exported");
            assertEquals(OnnxExport.OPSET, read.opset());
            OnnxGraph g = read.graph();
            assertEquals(List.of("Conv", "Relu", "Conv", "MaxPool", "LRN", "LRN", "AveragePool", "Relu", "Flatten", "Gemm",
                    "Relu", "Softmax"), g.nodes().stream().map(OnnxNode::opType).toList());
            assertArrayEquals(new long[] {2, 4, 10, 12}, g.inputs().get(0).dims());
            assertEquals("softmax", g.outputs().get(0).name());
            assertArrayEquals(new long[] {2, 7}, g.outputs().get(0).dims());
            OnnxNode conv = g.nodes().get(0);
            assertEquals(List.of("input", "conv/weight", "conv/bias"), conv.inputs());
            // SAME on 10x12 with stride 2: one row and one column of padding, both after (TensorFlow's rule).
            assertArrayEquals(new long[] {0, 0, 1, 1}, conv.intsAttr("pads", null));
            assertArrayEquals(new long[] {2, 2}, conv.intsAttr("strides", null));
            OnnxNode grouped = g.nodes().get(2);
            assertEquals(2, grouped.intAttr("group", 0));
            assertArrayEquals(new long[] {1, 0, 2, 0}, grouped.intsAttr("pads", null));
            assertEquals(2, grouped.inputs().size(), "no bias input");
            OnnxNode lrnTf = g.nodes().get(5);
            assertEquals(3, lrnTf.intAttr("size", 0));
            assertEquals(3e-3f, lrnTf.floatAttr("alpha", 0), 1e-9, "TensorFlow's alpha times the window");
            assertEquals(1, g.nodes().get(6).intAttr("count_include_pad", 0));
            assertEquals(-1, g.nodes().get(11).intAttr("axis", 0), "a negative INT survives the varint");
            OnnxTensor w = g.initializers().stream().filter(t -> t.name().equals("conv/weight")).findFirst().orElseThrow();
            assertArrayEquals(new long[] {6, 4, 3, 3}, w.dims());
            float[] values = w.floats();
            float[] expected = m.parameters("conv").get(0).toFloatArray();
            assertArrayEquals(expected, values, "raw_data holds the weights bit for bit");
        }
    }

    @Test
    void convkitRunsTheExportedModelAsTheOriginal() {
        Graph graph = everyOp();
        try (Model original = Model.withRandomParameters(graph, 12);
                Model imported = OnnxImport.load(Onnx.parseModel(OnnxExport.of(original), "exported"), null, "rt");
                Tensor x = Tensor.allocate(graph.inputShape()).fillUniform(3, -1f, 1f);
                Device cpu = Backends.system().open("cpu");
                Session a = Session.open(original, cpu);
                Session b = Session.open(imported, cpu);
                InferenceResult ya = a.run(x);
                InferenceResult yb = b.run(x)) {
            float[] p = ya.output().toFloatArray();
            float[] q = yb.output().toFloatArray();
            assertEquals(p.length, q.length);
            for (int i = 0; i < p.length; i++) {
                assertEquals(p[i], q[i], 1e-6f * Math.max(1f, Math.abs(p[i])), "element " + i);
            }
            assertTrue(p[0] > 0 && p[0] < 1, "a softmax output: " + p[0]);
        }
    }

    @Test
    void anOpWithoutAnOnnxFormIsRefusedByName() {
        Graph g = Graph.builder("sig", Shape.nchw(1, 2, 3, 3)).add("squash", ActivationOp.sigmoid()).graph();
        try (Model m = Model.withRandomParameters(g, 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxExport.of(m));
            assertTrue(e.getMessage().contains("layer 'squash'"), e.getMessage());
        }
    }

    @Test
    void theWriterChecksInitializerSizes() {
        OnnxWriter w = new OnnxWriter("g", 13);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> w.initializer("w", new float[5], 2, 3));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("24"), e.getMessage());
    }
}
