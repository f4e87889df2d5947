package org.convkit.bench.peers;

import java.util.ArrayList;
import java.util.List;

import org.convkit.graph.Layer;
import org.convkit.graph.Model;
import org.convkit.ops.Activation;
import org.convkit.ops.ActivationOp;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.Lrn;
import org.convkit.ops.Op;
import org.convkit.ops.Pool2d;
import org.convkit.ops.Softmax;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * A convkit {@link Model} as an ONNX model (opset 13), with its parameters as initializers, so
 * that another runtime runs exactly the same network on exactly the same weights. Ops written:
 * {@link Conv2d} (Conv, with a Relu node for a fused ReLU), {@link Pool2d} (MaxPool,
 * AveragePool), {@link Lrn} (LRN; a TensorFlow-convention descriptor is converted),
 * {@link ActivationOp} ReLU (Relu), {@link Dense} (Gemm), {@link Flatten} and {@link Softmax}.
 * Padding is written as the explicit pads the descriptor resolves to for its input, so SAME
 * needs no {@code auto_pad} interpretation on the other side.
 *
 * <p>Tensor names: the graph input is {@link #INPUT}, each layer's output is the layer's name,
 * and the graph output is the last layer's.
 */
public final class OnnxExport {
    /** The operator set written. */
    public static final long OPSET = 13;
    /** The graph input's name. */
    public static final String INPUT = Model.INPUT;

    private OnnxExport() {
    }

    /** The model as ONNX bytes. */
    public static byte[] of(Model model) {
        OnnxWriter w = new OnnxWriter(model.name(), OPSET);
        w.input(INPUT, dims(model.inputShape()));
        for (Layer l : model.layers()) {
            List<Tensor> params = model.parameters(l.name());
            List<String> names = l.op().parameterNames(l.inputShapes());
            List<String> in = new ArrayList<>(l.inputs());
            for (int p = 0; p < params.size(); p++) {
                String name = l.name() + "/" + names.get(p);
                w.initializer(name, params.get(p).segment(), dims(params.get(p).shape()));
                in.add(name);
            }
            layer(w, l, in);
        }
        Layer last = model.layers().get(model.layers().size() - 1);
        w.output(last.name(), dims(last.outputShape()));
        return w.toBytes();
    }

    private static void layer(OnnxWriter w, Layer l, List<String> in) {
        Op op = l.op();
        Shape x = l.inputShapes().get(0);
        String out = l.name();
        switch (op) {
            case Conv2d c -> {
                Conv2d.Geometry g = c.geometry(x);
                String convOut = fused(c.activation(), l);
                w.node("Conv", in, List.of(convOut), OnnxWriter.ints("kernel_shape", g.kh(), g.kw()),
                        OnnxWriter.ints("strides", g.sh(), g.sw()), OnnxWriter.ints("dilations", g.dh(), g.dw()),
                        OnnxWriter.ints("pads", g.padTop(), g.padLeft(), g.padBottom(), g.padRight()),
                        OnnxWriter.i("group", g.groups()));
                relu(w, c.activation(), convOut, out);
            }
            case Pool2d p -> {
                Pool2d.Geometry g = p.geometry(x);
                List<OnnxWriter.Attribute> a = new ArrayList<>(List.of(OnnxWriter.ints("kernel_shape", g.kh(), g.kw()),
                        OnnxWriter.ints("strides", g.sh(), g.sw()),
                        OnnxWriter.ints("pads", g.padTop(), g.padLeft(), g.padBottom(), g.padRight()),
                        OnnxWriter.i("ceil_mode", g.ceilMode() ? 1 : 0)));
                if (p.mode() == Pool2d.Mode.MAX) {
                    a.add(OnnxWriter.ints("dilations", g.dh(), g.dw()));
                } else {
                    if (g.dh() != 1 || g.dw() != 1) {
                        throw unsupported(l, "dilated average pooling needs opset 19");
                    }
                    a.add(OnnxWriter.i("count_include_pad", g.countIncludePad() ? 1 : 0));
                }
                w.node(p.mode() == Pool2d.Mode.MAX ? "MaxPool" : "AveragePool", in, List.of(out),
                        a.toArray(OnnxWriter.Attribute[]::new));
            }
            case Lrn r -> {
                long size = r.size();
                // ONNX divides alpha by size; TensorFlow's alpha is the undivided scale.
                float alpha = r.convention() == Lrn.Convention.ONNX ? r.alpha() : r.alpha() * size;
                w.node("LRN", in, List.of(out), OnnxWriter.i("size", size), OnnxWriter.f("alpha", alpha),
                        OnnxWriter.f("beta", r.beta()), OnnxWriter.f("bias", r.bias()));
            }
            case ActivationOp a when a.kind() == ActivationOp.Kind.RELU -> w.node("Relu", in, List.of(out));
            case Dense d -> {
                String gemmOut = fused(d.activation(), l);
                w.node("Gemm", in, List.of(gemmOut), OnnxWriter.i("transA", d.transA() ? 1 : 0),
                        OnnxWriter.i("transB", d.transB() ? 1 : 0), OnnxWriter.f("alpha", d.alpha()),
                        OnnxWriter.f("beta", d.beta()));
                relu(w, d.activation(), gemmOut, out);
            }
            case Flatten f -> w.node("Flatten", in, List.of(out), OnnxWriter.i("axis", f.resolvedAxis(x)));
            case Softmax s -> w.node("Softmax", in, List.of(out), OnnxWriter.i("axis", s.axis()));
            default -> throw unsupported(l, "no ONNX form written for " + op.name());
        }
    }

    /** The name of the op's own output: the layer's, or an intermediate one when a Relu node follows. */
    private static String fused(Activation a, Layer l) {
        return switch (a) {
            case NONE -> l.name();
            case RELU -> l.name() + "/pre_relu";
        };
    }

    private static void relu(OnnxWriter w, Activation a, String in, String out) {
        if (a == Activation.RELU) {
            w.node("Relu", List.of(in), List.of(out));
        }
    }

    private static IllegalArgumentException unsupported(Layer l, String why) {
        return new IllegalArgumentException("onnx export: layer '" + l.name() + "' (" + l.op() + "): " + why);
    }

    static long[] dims(Shape s) {
        long[] d = new long[s.rank()];
        for (int i = 0; i < d.length; i++) {
            d[i] = s.dim(i);
        }
        return d;
    }
}
