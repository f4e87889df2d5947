package org.convkit.ops;

import java.util.ArrayList;
import java.util.List;

import org.convkit.ops.grad.Gradient;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * The pure description of one operation: hyper-parameters only, no data, no device. Given the
 * shapes of its activation inputs it answers everything the backends, the memory planner, the
 * tests and the benchmarks need. Every method validates the shapes and throws
 * {@link IllegalArgumentException} naming the op, the parameter and the shapes.
 *
 * <p>A kernel's arguments are the activation inputs followed by the parameters, in the order of
 * {@link #parameterShapes(List)}.
 */
public interface Op {
    /** The op's name as kernels, tests and benchmarks spell it, e.g. {@code conv2d}. */
    String name();

    /** Number of activation inputs. */
    default int arity() {
        return 1;
    }

    /** Shape of the output for these activation inputs. */
    Shape outputShape(List<Shape> inputs);

    /** Shapes of the learned parameters (weights, bias...), in argument order; empty if none. */
    List<Shape> parameterShapes(List<Shape> inputs);

    /** Names of the parameters in argument order, e.g. {@code weight, bias}; used to name buffers. */
    default List<String> parameterNames(List<Shape> inputs) {
        int n = parameterShapes(inputs).size();
        List<String> names = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            names.add(i == 0 ? "weight" : i == 1 ? "bias" : "param" + i);
        }
        return names;
    }

    /**
     * Fills parameter {@code index} with random values suited to it, reproducibly from
     * {@code seed}. The default: a weight of rank 2 or more uniform in +-sqrt(6 / fan-in) (He),
     * anything else uniform in +-0.1. Ops whose parameters have constraints (a variance must be
     * positive) override it.
     */
    default void initParameter(List<Shape> inputs, int index, Tensor t, long seed) {
        if (index == 0 && t.shape().rank() > 1) {
            heUniform(t, seed);
        } else {
            t.fillUniform(seed, -0.1f, 0.1f);
        }
    }

    /** He-uniform: +-sqrt(6 / fan-in), the fan-in being all dimensions but the first. */
    static void heUniform(Tensor t, long seed) {
        Shape s = t.shape();
        float a = (float) Math.sqrt(6.0 / (s.elementCount() / s.dim(0)));
        t.fillUniform(seed, -a, a);
    }

    /** Number of learned parameters. */
    default long parameterCount(List<Shape> inputs) {
        long n = 0;
        for (Shape s : parameterShapes(inputs)) {
            n += s.elementCount();
        }
        return n;
    }

    /** Floating-point operations of one run (a multiply-add counts 2). */
    long flops(List<Shape> inputs);

    /** Compulsory memory traffic of one run: every input, parameter and output once. */
    default long bytesMoved(List<Shape> inputs, DType dtype) {
        long b = outputShape(inputs).byteSize(dtype);
        for (Shape s : inputs) {
            b += s.byteSize(dtype);
        }
        for (Shape s : parameterShapes(inputs)) {
            b += s.byteSize(dtype);
        }
        return b;
    }

    /** Scratch bytes a kernel needs besides inputs, parameters and output (0 for direct kernels). */
    default long workspaceBytes(List<Shape> inputs, DType dtype) {
        return 0;
    }

    /** The case as one string, e.g. {@code conv2d(n=2,c=7,h=13,w=9,oc=8,k=3,s=2,same)}. */
    String describe(List<Shape> inputs);

    /** Whether this op's backward pass reads its forward inputs (a convolution's weight gradient does). */
    default boolean backwardReadsInputs() {
        return true;
    }

    /** Whether this op's backward pass reads its forward output (a fused ReLU's mask, a sigmoid, max pooling). */
    default boolean backwardReadsOutput() {
        return true;
    }

    /**
     * The terms of this op's backward pass for these input shapes: one per input and parameter that
     * has a gradient (inputs without one, such as class labels, have none). Empty for an op that
     * cannot be trained through; the trainer rejects a model containing one with a message naming
     * the layer.
     */
    default List<Gradient> gradients(List<Shape> inputs) {
        return List.of();
    }

    /** Checks the number of activation inputs; helper for implementations. */
    default void requireArity(List<Shape> inputs) {
        if (inputs.size() != arity()) {
            throw new IllegalArgumentException(name() + ": expected " + arity() + " input(s), got " + inputs.size()
                    + " " + inputs);
        }
    }
}
