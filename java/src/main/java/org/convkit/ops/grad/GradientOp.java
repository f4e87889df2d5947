package org.convkit.ops.grad;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.convkit.ops.Op;
import org.convkit.ops.grad.Gradient.Operand;
import org.convkit.tensor.Shape;

/**
 * The common part of every gradient op: the forward op and input shapes it belongs to, the forward
 * tensors it reads (its operands, in its input order) and its output shape (the shape of the input
 * or parameter it differentiates). The operand shapes follow from the forward case, so
 * {@link #outputShape(List)} validates each input against them and a wrong one is rejected naming
 * the op, the operand and both shapes, before any device sees it.
 *
 * <p>A gradient op has no parameters (parameters it reads are operands) and no gradient of its own.
 * Two gradient ops are equal when they are of the same class and compute the same term of the same
 * forward case.
 */
public abstract class GradientOp implements Op {
    private final String name;
    private final Op forward;
    private final List<Shape> forwardInputs;
    private final Shape forwardOutput;
    private final List<Operand> operands;
    private final List<Shape> operandShapes;
    private final Shape output;

    /**
     * @param name the op's name, e.g. {@code conv2d_grad_weight}
     * @param forward the forward op
     * @param forwardInputs its input shapes (validated here)
     * @param operands what this op reads, in its input order
     * @param output the shape it produces
     */
    protected GradientOp(String name, Op forward, List<Shape> forwardInputs, List<Operand> operands, Shape output) {
        this.name = Objects.requireNonNull(name, "gradient op name");
        this.forward = Objects.requireNonNull(forward, name + ": forward op");
        this.forwardInputs = List.copyOf(forwardInputs);
        this.forwardOutput = forward.outputShape(this.forwardInputs);
        this.operands = List.copyOf(operands);
        this.output = Objects.requireNonNull(output, name + ": output shape");
        List<Shape> params = forward.parameterShapes(this.forwardInputs);
        List<Shape> shapes = new ArrayList<>(this.operands.size());
        for (Operand o : this.operands) {
            shapes.add(switch (o.kind()) {
                case OUTPUT_GRADIENT, OUTPUT -> forwardOutput;
                case INPUT -> pick(this.forwardInputs, o, "input");
                case PARAMETER -> pick(params, o, "parameter");
            });
        }
        this.operandShapes = List.copyOf(shapes);
    }

    private Shape pick(List<Shape> shapes, Operand o, String what) {
        if (o.index() >= shapes.size()) {
            throw new IllegalArgumentException(name + ": operand " + o + " names " + what + " " + o.index() + " but "
                    + forward.describe(forwardInputs) + " has " + shapes.size());
        }
        return shapes.get(o.index());
    }

    @Override
    public final String name() {
        return name;
    }

    /** The forward op whose backward pass this op is part of. */
    public final Op forward() {
        return forward;
    }

    /** The forward op's input shapes. */
    public final List<Shape> forwardInputs() {
        return forwardInputs;
    }

    /** The forward op's output shape (the shape of dy). */
    public final Shape forwardOutput() {
        return forwardOutput;
    }

    /** The forward tensors this op reads, in its input order. */
    public final List<Operand> operands() {
        return operands;
    }

    /** The shape each operand must have, in input order. */
    public final List<Shape> operandShapes() {
        return operandShapes;
    }

    /** This op as the gradient of forward input {@code i}. */
    public final Gradient ofInput(int i) {
        return new Gradient(Gradient.Wrt.INPUT, i, this, operands);
    }

    /** This op as the gradient of forward parameter {@code j}. */
    public final Gradient ofParameter(int j) {
        return new Gradient(Gradient.Wrt.PARAMETER, j, this, operands);
    }

    @Override
    public final int arity() {
        return operands.size();
    }

    /** The shape of the gradient this op produces. */
    public final Shape outputShape() {
        return output;
    }

    /** Checks every operand shape against the forward case; the output is the differentiated tensor's shape. */
    @Override
    public final Shape outputShape(List<Shape> inputs) {
        Objects.requireNonNull(inputs, name + ": input shapes");
        if (inputs.size() != operands.size()) {
            throw new IllegalArgumentException(name + ": expected " + operands.size() + " input(s) " + operandNames()
                    + " of shapes " + operandShapes + ", got " + inputs.size() + " " + inputs + " (" + forwardCase() + ")");
        }
        for (int i = 0; i < inputs.size(); i++) {
            Shape s = inputs.get(i);
            if (!operandShapes.get(i).equals(s)) {
                throw new IllegalArgumentException(name + ": operand " + i + " (" + operandName(i) + ") has shape " + s
                        + " but " + forwardCase() + " needs " + operandShapes.get(i));
            }
        }
        return output;
    }

    /** The forward case as a string, for messages. */
    protected final String forwardCase() {
        return forward.describe(forwardInputs);
    }

    private List<String> operandNames() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < operands.size(); i++) {
            names.add(operandName(i));
        }
        return names;
    }

    /** What operand {@code i} is, e.g. {@code dy}, {@code input 0}, {@code parameter weight}, {@code y}. */
    public final String operandName(int i) {
        Operand o = operands.get(i);
        return switch (o.kind()) {
            case OUTPUT_GRADIENT -> "dy";
            case OUTPUT -> "y";
            case INPUT -> "input " + o.index();
            case PARAMETER -> "parameter " + forward.parameterNames(forwardInputs).get(o.index());
        };
    }

    /** Gradient ops have no parameters: what they read is an operand. */
    @Override
    public final List<Shape> parameterShapes(List<Shape> inputs) {
        outputShape(inputs);
        return List.of();
    }

    @Override
    public final List<String> parameterNames(List<Shape> inputs) {
        return List.of();
    }

    /** The case as a string: the op's name and details, then the forward case, e.g. {@code conv2d_grad_weight(conv2d(n=1,...))}. */
    @Override
    public final String describe(List<Shape> inputs) {
        String d = details();
        return name + "(" + (d.isEmpty() ? "" : d + ",") + forwardCase() + ")";
    }

    /** Distinguishing settings for {@link #describe} beyond the forward case (empty by default). */
    protected String details() {
        return "";
    }

    /** A gradient op is not differentiated again. */
    @Override
    public final boolean backwardReadsInputs() {
        return false;
    }

    @Override
    public final boolean backwardReadsOutput() {
        return false;
    }

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && o instanceof GradientOp g && g.name.equals(name)
                && g.forward.equals(forward) && g.forwardInputs.equals(forwardInputs) && g.operands.equals(operands)
                && g.details().equals(details());
    }

    @Override
    public int hashCode() {
        return Objects.hash(getClass(), name, forward, forwardInputs, operands, details());
    }

    @Override
    public String toString() {
        return describe(operandShapes);
    }
}
