package org.convkit.ops.grad;

import java.util.List;
import java.util.Objects;

import org.convkit.ops.Op;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;

/**
 * An op computed as a sequence of other ops, each of which every device already runs: the backward
 * pass of a fused block (squeeze-and-excitation, separable convolution) recomputes the forward
 * intermediates the fused forward never stored and chains the gradient ops of its parts. A device
 * prepares the steps and runs them in order; intermediates live in temporaries carved from the
 * op's workspace, so every byte is accounted and planned like any other workspace.
 */
public interface Composite extends Op {
    /** Offsets of temporaries in the workspace are multiples of this (every device's view alignment divides it). */
    long ALIGNMENT = 256;

    /** The steps for these input shapes. */
    Plan plan(List<Shape> inputs);

    /** Workspace: the temporaries, each rounded up to {@link #ALIGNMENT}, then the largest workspace of a step. */
    @Override
    default long workspaceBytes(List<Shape> inputs, DType dtype) {
        return plan(inputs).workspaceBytes(dtype, ALIGNMENT);
    }

    /** Where a step's argument or output lives. */
    sealed interface Ref permits Arg, Temp, Out {
    }

    /** Argument {@code index} of the composite op itself. */
    record Arg(int index) implements Ref {
    }

    /** Temporary {@code index} of the plan. */
    record Temp(int index) implements Ref {
    }

    /** The composite op's output. */
    record Out() implements Ref {
    }

    /**
     * One step: {@code op} on {@code inputShapes} (its activation inputs; its own parameters, if any,
     * follow in {@code args}), reading {@code args} and writing {@code output}. A temporary may be read
     * under another shape of the same element count (a pooled {@code [N,C,1,1]} read as {@code [N,C]}).
     */
    record Step(Op op, List<Shape> inputShapes, List<Ref> args, Ref output) {
        public Step {
            Objects.requireNonNull(op, "step op");
            inputShapes = List.copyOf(inputShapes);
            args = List.copyOf(args);
            Objects.requireNonNull(output, "step output");
        }
    }

    /**
     * The steps and the shapes of the temporaries they use.
     *
     * @param temps shape of each temporary
     * @param steps in execution order
     */
    record Plan(List<Shape> temps, List<Step> steps) {
        public Plan {
            temps = List.copyOf(temps);
            steps = List.copyOf(steps);
        }

        /** Byte offset of each temporary, then the offset of the steps' shared workspace, at {@code alignment}. */
        public long[] offsets(DType dtype, long alignment) {
            long[] at = new long[temps.size() + 1];
            long offset = 0;
            for (int i = 0; i < temps.size(); i++) {
                at[i] = offset;
                offset += roundUp(temps.get(i).byteSize(dtype), alignment);
            }
            at[temps.size()] = offset;
            return at;
        }

        /** The temporaries and the largest step workspace, laid out at {@code alignment}. */
        public long workspaceBytes(DType dtype, long alignment) {
            long stepWorkspace = 0;
            for (Step s : steps) {
                stepWorkspace = Math.max(stepWorkspace, s.op().workspaceBytes(s.inputShapes(), dtype));
            }
            return offsets(dtype, alignment)[temps.size()] + stepWorkspace;
        }

        private static long roundUp(long v, long m) {
            return (v + m - 1) / m * m;
        }
    }
}
