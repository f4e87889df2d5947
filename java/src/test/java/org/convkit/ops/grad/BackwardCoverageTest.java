package org.convkit.ops.grad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.convkit.backend.Device;
import org.convkit.backend.Kernel;
import org.convkit.graph.Graph;
import org.convkit.graph.Layer;
import org.convkit.graph.Segmentation;
import org.convkit.graph.SeedNet;
import org.convkit.graph.zoo.Zoo;
import org.convkit.graph.zoo.ZooModel;
import org.convkit.ops.BatchNorm;
import org.convkit.ops.Op;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnEveryDevice;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every layer of every model the library builds (the seed network, the zoo, the FCN) can be trained
 * through: its op's gradients cover each input and each learned parameter (a batch normalization's
 * running statistics excepted), each term accepts the shapes of the forward tensors it names and
 * produces the differentiated tensor's shape, and every device prepares a kernel for it.
 */
class BackwardCoverageTest extends OnEveryDevice {
    static List<Graph> graphs() {
        List<Graph> out = new ArrayList<>();
        out.add(SeedNet.graph(1));
        for (ZooModel m : Zoo.all()) {
            out.add(m.graph(1));
        }
        out.add(Segmentation.fcn(1));
        return out;
    }

    @Test
    void everyLayerOfEveryModelHasAGradientForEachInputAndLearnedParameter() {
        TreeSet<String> ops = new TreeSet<>();
        for (Graph graph : graphs()) {
            for (Layer l : graph.layers()) {
                check(graph.name() + "/" + l.name(), l.op(), l.inputShapes(), l.outputShape());
                ops.add(l.op().name());
            }
        }
        assertTrue(ops.size() >= 10, "ops covered: " + ops);
    }

    /** The terms of one layer against its shapes. */
    static void check(String where, Op op, List<Shape> inputs, Shape output) {
        List<Shape> params = op.parameterShapes(inputs);
        TreeSet<String> expected = new TreeSet<>();
        for (int i = 0; i < inputs.size(); i++) {
            expected.add("input " + i);
        }
        for (int p = 0; p < params.size(); p++) {
            if (!(op instanceof BatchNorm && p >= 2)) {
                expected.add("parameter " + p);
            }
        }
        TreeSet<String> named = new TreeSet<>();
        for (Gradient g : op.gradients(inputs)) {
            String what = (g.wrt() == Gradient.Wrt.INPUT ? "input " : "parameter ") + g.index();
            named.add(what);
            Shape target = g.wrt() == Gradient.Wrt.INPUT ? inputs.get(g.index()) : params.get(g.index());
            assertEquals(target, g.op().outputShape(operandShapes(g, inputs, params, output)), where + " " + what);
        }
        assertEquals(expected, named, where + " (" + op + "): gradients");
    }

    static List<Shape> operandShapes(Gradient g, List<Shape> inputs, List<Shape> params, Shape output) {
        List<Shape> out = new ArrayList<>();
        for (Gradient.Operand o : g.operands()) {
            out.add(switch (o.kind()) {
                case OUTPUT_GRADIENT, OUTPUT -> output;
                case INPUT -> inputs.get(o.index());
                case PARAMETER -> params.get(o.index());
            });
        }
        return out;
    }

    /** Every device prepares every term of the models whose ops differ most (prepare only: it validates and builds). */
    @TestFactory
    Stream<DynamicTest> everyDevicePreparesEveryTerm() {
        List<Graph> gs = new ArrayList<>();
        for (String name : List.of("googlenet", "se_resnet50", "xception")) {
            gs.add(Zoo.find(name).graph(1));
        }
        gs.add(Segmentation.fcn(1));
        return devices.stream().flatMap(d -> gs.stream().map(g -> DynamicTest.dynamicTest(d.name() + " " + g.name(),
                () -> prepareAll(d, g))));
    }

    private static void prepareAll(Device d, Graph graph) {
        for (Layer l : graph.layers()) {
            List<Shape> params = l.op().parameterShapes(l.inputShapes());
            for (Gradient g : l.op().gradients(l.inputShapes())) {
                assertTrue(d.supports(g.op()), d.name() + " supports " + g.op().name());
                try (Kernel k = d.prepare(g.op(), operandShapes(g, l.inputShapes(), params, l.outputShape()))) {
                    assertTrue(k.workspaceBytes() >= 0);
                }
            }
        }
        assertEquals(0, d.allocator().liveBytes());
    }
}
