package org.convkit.memory;

import java.util.ArrayList;
import java.util.List;

import org.convkit.graph.Layer;
import org.convkit.ops.Op;
import org.convkit.ops.grad.Gradient;
import org.convkit.tensor.Shape;

/**
 * A stand-in for the backward term of an op that declares none, so that a model can be planned
 * before every op can be trained: it reads the output gradient, and as the op declares
 * ({@link Op#backwardReadsInputs()}, {@link Op#backwardReadsOutput()}) its inputs and its output,
 * plus, for an input's gradient, the parameters; its FLOPs are the forward pass's. It has no
 * kernel on any device.
 */
final class ModelledGradient implements Op {
    private final Layer layer;
    private final Shape output;
    private final int arity;

    private ModelledGradient(Layer layer, Shape output, int arity) {
        this.layer = layer;
        this.output = output;
        this.arity = arity;
    }

    /** One term per input and one per parameter of {@code layer}. */
    static List<Gradient> terms(Layer layer) {
        Op op = layer.op();
        List<Shape> params = op.parameterShapes(layer.inputShapes());
        List<Gradient> out = new ArrayList<>();
        for (int i = 0; i < layer.inputShapes().size(); i++) {
            List<Gradient.Operand> reads = reads(layer);
            for (int p = 0; p < params.size(); p++) {
                reads.add(Gradient.Operand.parameter(p));
            }
            out.add(new Gradient(Gradient.Wrt.INPUT, i, new ModelledGradient(layer, layer.inputShapes().get(i),
                    reads.size()), reads));
        }
        for (int p = 0; p < params.size(); p++) {
            List<Gradient.Operand> reads = reads(layer);
            out.add(new Gradient(Gradient.Wrt.PARAMETER, p, new ModelledGradient(layer, params.get(p), reads.size()),
                    reads));
        }
        return out;
    }

    private static List<Gradient.Operand> reads(Layer layer) {
        List<Gradient.Operand> reads = new ArrayList<>();
        reads.add(Gradient.Operand.dy());
        if (layer.op().backwardReadsInputs()) {
            for (int i = 0; i < layer.inputShapes().size(); i++) {
                reads.add(Gradient.Operand.input(i));
            }
        }
        if (layer.op().backwardReadsOutput()) {
            reads.add(Gradient.Operand.output());
        }
        return reads;
    }

    @Override
    public String name() {
        return "modelled_" + layer.op().name() + "_grad";
    }

    @Override
    public int arity() {
        return arity;
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        return output;
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        return List.of();
    }

    /** The layer's forward FLOPs: a backward term costs about as much as the forward pass. */
    @Override
    public long flops(List<Shape> inputs) {
        return layer.flops();
    }

    @Override
    public String describe(List<Shape> inputs) {
        return name() + "(" + layer.name() + " -> " + output + ")";
    }
}
