package org.convkit.ops.grad;

import java.util.List;
import java.util.Objects;

import org.convkit.ops.Op;

/**
 * One term of an op's backward pass: an {@link Op} of its own (no parameters, one output) that a
 * device prepares and runs like any forward op, computing the gradient of the loss with respect to
 * one forward input or one parameter.
 *
 * <p>A convolution, for example, has three terms: the data gradient (reads the output gradient and
 * the weight), the weight gradient (reads the output gradient and the input) and the bias gradient
 * (reads the output gradient). The operands list, in the gradient op's input order, names which
 * forward tensors the term reads; the trainer keeps exactly those alive until the term has run, and
 * the memory planner derives the same lifetimes from it.
 *
 * @param wrt whether the term produces an input's or a parameter's gradient
 * @param index which input or parameter (in {@link Op#parameterShapes} order)
 * @param op the gradient op; its output shape is that input's or parameter's shape
 * @param operands what the gradient op reads, in the order of its inputs
 */
public record Gradient(Wrt wrt, int index, Op op, List<Operand> operands) {

    /** What a gradient term differentiates with respect to. */
    public enum Wrt {
        /** A forward activation input. */
        INPUT,
        /** A learned parameter. */
        PARAMETER
    }

    /**
     * A forward tensor a gradient op reads.
     *
     * @param kind which kind of tensor
     * @param index for inputs and parameters, which one (0 otherwise)
     */
    public record Operand(Kind kind, int index) {

        /** The kinds of tensor a gradient op can read. */
        public enum Kind {
            /** The gradient of the loss with respect to the forward output. */
            OUTPUT_GRADIENT,
            /** A forward input. */
            INPUT,
            /** A parameter. */
            PARAMETER,
            /** The forward output. */
            OUTPUT
        }

        public Operand {
            Objects.requireNonNull(kind, "kind");
            if (index < 0 || (index > 0 && (kind == Kind.OUTPUT_GRADIENT || kind == Kind.OUTPUT))) {
                throw new IllegalArgumentException("gradient operand: bad index " + index + " for " + kind);
            }
        }

        /** The output gradient. */
        public static Operand dy() {
            return new Operand(Kind.OUTPUT_GRADIENT, 0);
        }

        /** Forward input {@code i}. */
        public static Operand input(int i) {
            return new Operand(Kind.INPUT, i);
        }

        /** Parameter {@code j}. */
        public static Operand parameter(int j) {
            return new Operand(Kind.PARAMETER, j);
        }

        /** The forward output. */
        public static Operand output() {
            return new Operand(Kind.OUTPUT, 0);
        }
    }

    public Gradient {
        Objects.requireNonNull(wrt, "wrt");
        Objects.requireNonNull(op, "op");
        operands = List.copyOf(operands);
        if (index < 0) {
            throw new IllegalArgumentException("gradient: negative index " + index);
        }
        if (operands.size() != op.arity()) {
            throw new IllegalArgumentException("gradient " + op.name() + ": " + operands.size()
                    + " operand(s) for an op of arity " + op.arity());
        }
    }

    /** Gradient of input {@code i}. */
    public static Gradient ofInput(int i, Op op, Operand... operands) {
        return new Gradient(Wrt.INPUT, i, op, List.of(operands));
    }

    /** Gradient of parameter {@code j}. */
    public static Gradient ofParameter(int j, Op op, Operand... operands) {
        return new Gradient(Wrt.PARAMETER, j, op, List.of(operands));
    }
}
