package org.convkit.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.convkit.memory.Allocator;
import org.convkit.ops.Activation;
import org.convkit.ops.Binary;
import org.convkit.ops.Concat;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(HostLeakCheck.class)
class GraphApiTest {
    private static Conv2d conv(int oc, int k) {
        return Conv2d.builder(oc).kernel(k).padding(Padding.SAME).build();
    }

    @Test
    void branchesResidualsAndConcatsReadLikeTheFunctionalApi() {
        Graph.Builder b = Graph.builder("inception-ish", Shape.nchw(1, 32, 28, 28));
        Node x = b.input();
        Node a = b.apply("1x1", conv(16, 1), x);
        Node c = b.apply("3x3", conv(24, 3), x);
        Node p = b.apply("pool", Pool2d.max(3).padding(Padding.SAME).build(), x);
        Node cat = b.apply("cat", Concat.of(1), a, c, p);
        assertEquals(Shape.nchw(1, 16 + 24 + 32, 28, 28), cat.shape());
        Node proj = b.apply(conv(32, 1), cat);
        assertEquals("conv2d_1", proj.name(), "an unnamed layer is named after its op and a counter");
        Node out = b.apply("add", Binary.add(Activation.RELU), proj, x);
        Graph g = b.graph(out);
        assertEquals(List.of("1x1", "3x3", "pool", "cat", "conv2d_1", "add"), g.layers().stream().map(Layer::name).toList());
        assertEquals(List.of("conv2d_1", "input"), g.layer("add").inputs());
        assertEquals(Shape.nchw(3, 32, 28, 28), g.withBatch(3).outputShape());
    }

    @Test
    void layersThatDoNotFitNameBothLayersAndBothShapes() {
        Graph.Builder b = Graph.builder("bad", Shape.nchw(1, 3, 32, 32));
        Node x = b.input();
        Node y = b.apply("conv1", Conv2d.builder(8).kernel(3).stride(2).padding(Padding.SAME).build(), x);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.apply("add", Binary.add(), y, x));
        assertTrue(e.getMessage().contains("'add'") && e.getMessage().contains("conv1") && e.getMessage().contains("input")
                && e.getMessage().contains("1x8x16x16") && e.getMessage().contains("1x3x32x32"), e.getMessage());
        IllegalArgumentException notLast = assertThrows(IllegalArgumentException.class, () -> b.graph(x));
        assertTrue(notLast.getMessage().contains("must be the last layer"), notLast.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.node("nowhere"));
    }

    @Test
    void suppliedParametersAreCheckedAndCopied() {
        Graph g = Graph.builder("one", Shape.nchw(1, 2, 4, 4)).add("conv", conv(3, 3)).graph();
        Allocator host = Allocator.root("supplied");
        try (Tensor w = Tensor.allocate(Shape.of(3, 2, 3, 3), DType.F32, host, "w").fillUniform(1, -1f, 1f);
                Tensor bias = Tensor.allocate(Shape.of(3), DType.F32, host, "b").fill(0.5f);
                Tensor wrong = Tensor.allocate(Shape.of(3, 2, 2, 2), DType.F32, host, "wrong")) {
            try (Model m = Model.withParameters(g, l -> List.of(w, bias))) {
                assertEquals(w.get(7), m.parameters("conv").get(0).get(7));
                assertEquals(0.5f, m.parameters("conv").get(1).get(2));
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Model.withParameters(g, l -> List.of(wrong, bias)));
            assertTrue(e.getMessage().contains("'conv'") && e.getMessage().contains("3x2x3x3") && e.getMessage().contains("3x2x2x2"),
                    e.getMessage());
            IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                    () -> Model.withParameters(g, l -> List.of(w)));
            assertTrue(count.getMessage().contains("needs 2 parameter tensors"), count.getMessage());
        } finally {
            host.close();
        }
    }
}
