package org.convkit.graph;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.convkit.memory.Allocator;
import org.convkit.ops.ActivationOp;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.Op;
import org.convkit.ops.Padding;
import org.convkit.ops.Softmax;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * Turns a classifier into a fully convolutional network (seed.md section 7): the dense head
 * becomes convolutions with the trained weights reshaped, not retrained, so the network runs on
 * larger inputs and gives a map of predictions.
 *
 * <p><b>What is converted.</b> The graph must end in a chain that starts at a {@link Flatten}
 * (axis 1) of an NCHW feature map {@code [N, C, H, W]} and holds {@link Dense} layers, with
 * element-wise layers between them:
 * <ul>
 *   <li>the first Dense ({@code units} neurons, K = C*H*W) becomes a {@link Conv2d} with an
 *       {@code H x W} kernel, VALID padding, stride 1, one filter per neuron: its weight
 *       {@code [units, K]} is <em>reshaped</em> to {@code [units, C, H, W]}. Flatten lays the
 *       features out row-major, feature {@code c*H*W + h*W + w}, which is exactly where Conv2d's
 *       weight {@code [o, c, h, w]} sits in {@code [units, C, H, W]}, so no element moves;</li>
 *   <li>each later Dense becomes a 1x1 convolution ({@code [units, K, 1, 1]});</li>
 *   <li>biases are carried over ({@code beta * C}, broadcast to {@code [units]}), a fused ReLU
 *       stays fused; a weight stored {@code [K, N]} (no {@code transB}) is transposed first;</li>
 *   <li>a {@link Softmax} over the features (axis 1 or -1 of {@code [N, features]}) becomes a
 *       softmax over the channel axis 1, i.e. per spatial position;</li>
 *   <li>{@link ActivationOp}s are kept as they are (element-wise, they do not care about the
 *       layout); the Flatten is removed; every layer before it is kept with its parameters.</li>
 * </ul>
 * Anything else in the chain is rejected, naming the layer: a Dense with {@code transA} (its
 * input would be {@code [K, N]}), with {@code alpha != 1} (a convolution has no output scale) or
 * with a bias that differs per batch row; a softmax over the batch or before the first Dense (it
 * would mix features that become different positions or channels); any other op, or a layer
 * that reads something other than the layer before it.
 *
 * <p><b>Outputs.</b> On the original input size the output is {@code [N, classes, 1, 1]} and
 * holds the original {@code [N, classes]}, up to float rounding (the sums run in another order).
 * The converted graph has no Flatten and no Dense, so {@link Graph#withInput} re-infers it at
 * other input sizes ({@link Model#withInput} carries the parameters): on a larger input each
 * output cell {@code (i, j)} is the original network's prediction for the crop at
 * {@code (i * S, j * S)} of the original size, S being the product of the strides of the layers
 * before the Flatten. This equality is exact (up to rounding) when those layers pad nothing
 * (VALID); with SAME padding the cells near the border see the large image's pixels where the
 * crop saw zeros, and differ. A layer that sees the whole image (global pooling) is no sliding
 * window: the map is then 1x1, computed from the whole larger image.
 */
public final class FullyConvolutional {
    private FullyConvolutional() {
    }

    /** The converted structure alone (for planning); see the class comment. */
    public static Graph convert(Graph graph) {
        return plan(graph).graph;
    }

    /**
     * The converted model: a new model whose graph is {@link #convert(Graph)} of this one's and
     * whose parameters are this model's, the dense layers' reshaped. The caller closes both.
     */
    public static Model convert(Model model) {
        Conversion c = plan(model.graph());
        Allocator scratch = Allocator.host().child("fully convolutional " + model.name());
        List<Tensor> temporaries = new ArrayList<>();
        try {
            return Model.withParameters(c.graph, l -> {
                Dense dense = c.dense.get(l.name());
                if (dense == null) {
                    return model.parameters(l.name());
                }
                Layer original = model.layer(l.name());
                List<Tensor> ps = model.parameters(l.name());
                Tensor w = convWeight(dense, original, ps.get(0), l, scratch);
                temporaries.add(w);
                if (!dense.hasBias()) {
                    return List.of(w);
                }
                Tensor b = convBias(dense, ps.get(1), scratch, l.name());
                temporaries.add(b);
                return List.of(w, b);
            });
        } finally {
            temporaries.forEach(Tensor::close);
            scratch.close();
        }
    }

    /** The new graph and, by layer name, the Dense each converted convolution came from. */
    private record Conversion(Graph graph, Map<String, Dense> dense) {
    }

    private static Conversion plan(Graph graph) {
        List<Layer> layers = graph.layers();
        int f = 0;
        while (f < layers.size() && !(layers.get(f).op() instanceof Flatten)) {
            f++;
        }
        String model = "fully convolutional '" + graph.name() + "': ";
        if (f == layers.size()) {
            throw new IllegalArgumentException(model + "no Flatten layer; the head to convert is Flatten -> Dense ... "
                    + "(layers: " + layers.stream().map(l -> l.name() + " " + l.op().name()).toList() + ")");
        }
        Layer flatten = layers.get(f);
        Shape features = flatten.inputShapes().get(0);
        if (features.rank() != 4 || ((Flatten) flatten.op()).resolvedAxis(features) != 1) {
            throw new IllegalArgumentException(model + "Flatten '" + flatten.name() + "' flattens " + features + " at axis "
                    + ((Flatten) flatten.op()).axis() + "; only an NCHW feature map flattened at axis 1 ([N, C*H*W]) "
                    + "maps onto a convolution's weights");
        }
        Graph.Builder b = Graph.builder(graph.name() + " fully convolutional", graph.inputShape());
        for (int i = 0; i < f; i++) {
            Layer l = layers.get(i);
            b.add(l.name(), l.op(), l.inputs().toArray(String[]::new));
        }
        Map<String, Dense> dense = new HashMap<>();
        String previous = flatten.name();
        String reads = flatten.inputs().get(0);
        for (int i = f + 1; i < layers.size(); i++) {
            Layer l = layers.get(i);
            String what = model + "layer '" + l.name() + "' (" + l.describe() + ")";
            if (!l.inputs().equals(List.of(previous))) {
                throw new IllegalArgumentException(what + " reads " + l.inputs() + "; after Flatten '" + flatten.name()
                        + "' every layer must read only the layer before it ('" + previous + "')");
            }
            Op op = switch (l.op()) {
                case Dense d -> {
                    Op conv = conv(d, dense.isEmpty() ? features : null, what);
                    dense.put(l.name(), d);
                    yield conv;
                }
                case ActivationOp a -> a;
                case Softmax s -> {
                    if (dense.isEmpty()) {
                        throw new IllegalArgumentException(what + " comes before the first Dense: a softmax over the "
                                + "flattened features would mix what becomes separate channels and positions");
                    }
                    if (s.geometry(l.inputShapes().get(0)).axis() != 1) {
                        throw new IllegalArgumentException(what + " is a softmax over the batch (axis " + s.axis()
                                + "); only a softmax over the features (axis 1 or -1) becomes one over the channels");
                    }
                    yield Softmax.of(1);
                }
                default -> throw new IllegalArgumentException(what + " is between Flatten '" + flatten.name()
                        + "' and the output but is neither Dense nor element-wise (ActivationOp, Softmax over the "
                        + "features), so it has no convolutional form");
            };
            b.add(l.name(), op, reads);
            previous = l.name();
            reads = l.name();
        }
        if (dense.isEmpty()) {
            throw new IllegalArgumentException(model + "no Dense layer after Flatten '" + flatten.name() + "'");
        }
        return new Conversion(b.graph(), Map.copyOf(dense));
    }

    /** The convolution of one Dense: an H x W kernel on {@code features} for the first, 1x1 otherwise. */
    private static Conv2d conv(Dense d, Shape features, String what) {
        if (d.transA()) {
            throw new IllegalArgumentException(what + " has transA: its input is [K, N], features by rows, "
                    + "which no convolution reads");
        }
        if (d.alpha() != 1f) {
            throw new IllegalArgumentException(what + " has alpha " + d.alpha() + "; a convolution has no output "
                    + "scale (fold alpha into the weights first)");
        }
        if (d.hasBias() && d.biasShape().rank() == 2 && d.biasShape().dim(0) != 1) {
            throw new IllegalArgumentException(what + " has bias C " + d.biasShape() + ", one row per batch element; "
                    + "a convolution's bias is one value per output channel");
        }
        Conv2d.Builder c = Conv2d.builder(d.units()).padding(Padding.VALID).bias(d.hasBias()).activation(d.activation());
        return (features == null ? c.kernel(1) : c.kernel(features.h(), features.w())).build();
    }

    /**
     * The Dense weight as a convolution weight {@code [units, C, H, W]}: a copy in the same order
     * when it is stored {@code [N, K]} (the reshape), transposed first when stored {@code [K, N]}.
     */
    private static Tensor convWeight(Dense d, Layer original, Tensor weight, Layer conv, Allocator scratch) {
        Shape shape = conv.op().parameterShapes(conv.inputShapes()).get(0);
        Tensor w = Tensor.allocate(shape, DType.F32, scratch, conv.name() + "/weight");
        if (d.transB()) {
            MemorySegment.copy(weight.segment(), 0, w.segment(), 0, w.byteSize());
        } else {
            Dense.Geometry g = d.geometry(original.inputShapes().get(0));
            for (int k = 0; k < g.k(); k++) {
                for (int n = 0; n < g.n(); n++) {
                    w.set((long) n * g.k() + k, weight.get((long) k * g.n() + n));
                }
            }
        }
        return w;
    }

    /** {@code beta * C} broadcast to {@code [units]}: C is {@code [1]}, {@code [N]}, {@code [1, 1]} or {@code [1, N]}. */
    private static Tensor convBias(Dense d, Tensor c, Allocator scratch, String layer) {
        Tensor b = Tensor.allocate(Shape.of(d.units()), DType.F32, scratch, layer + "/bias");
        boolean broadcast = c.elementCount() == 1;
        for (int n = 0; n < d.units(); n++) {
            b.set(n, d.beta() * c.get(broadcast ? 0 : n));
        }
        return b;
    }
}
