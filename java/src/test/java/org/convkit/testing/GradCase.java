package org.convkit.testing;

import java.util.ArrayList;
import java.util.List;

import org.convkit.memory.Allocator;
import org.convkit.ops.Op;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * One forward case whose backward pass is checked: the op, its input shapes, its reference and how
 * its arguments are filled (uniform in [-1, 1) unless an op needs otherwise, e.g. a positive
 * variance). {@link #state} draws the data from the case's description only, so the finite
 * differences and every device see the same numbers.
 */
public record GradCase(Op op, List<Shape> inputs, GradReference reference, OpHarness.Filler filler) {
    public GradCase {
        inputs = List.copyOf(inputs);
    }

    /** A case with uniform arguments. */
    public static GradCase of(Op op, List<Shape> inputs, GradReference reference) {
        return new GradCase(op, inputs, reference, OpHarness.UNIFORM);
    }

    /** Inputs, then parameters. */
    public List<Shape> argumentShapes() {
        List<Shape> s = new ArrayList<>(inputs);
        s.addAll(op.parameterShapes(inputs));
        return s;
    }

    /** The forward output's shape. */
    public Shape outputShape() {
        return op.outputShape(inputs);
    }

    /** The seed of the case's data. */
    public long seed() {
        return op.describe(inputs).hashCode();
    }

    /**
     * The data of a check: the arguments (inputs then parameters), the forward output computed by the
     * reference in double and rounded to float, and an output gradient uniform in [-1, 1).
     */
    public record State(List<float[]> args, float[] y, float[] dy) {
        /** The arguments widened to double. */
        public List<double[]> args64() {
            List<double[]> out = new ArrayList<>(args.size());
            for (float[] a : args) {
                out.add(widen(a));
            }
            return out;
        }

        /** {@code v} widened to double. */
        public static double[] widen(float[] v) {
            double[] d = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                d[i] = v[i];
            }
            return d;
        }
    }

    /** The case's data, drawn from {@link #seed()}. */
    public State state() {
        return state(0);
    }

    /** The case's data, drawn afresh for each attempt (a draw whose gradient is all zeros proves nothing). */
    public State state(int attempt) {
        long seed = seed() + 1_000_003L * attempt;
        List<Shape> shapes = argumentShapes();
        List<float[]> args = new ArrayList<>(shapes.size());
        float[] dy;
        try (Allocator host = Allocator.root("grad case " + op.name())) {
            for (int i = 0; i < shapes.size(); i++) {
                try (Tensor t = Tensor.allocate(shapes.get(i), DType.F32, host, "arg" + i)) {
                    filler.fill(i, t, seed);
                    args.add(t.toFloatArray());
                }
            }
            try (Tensor t = Tensor.allocate(outputShape(), DType.F32, host, "dy")) {
                t.fillUniform(seed ^ 0x5DEECE66DL, -1f, 1f);
                dy = t.toFloatArray();
            }
        }
        double[] y64 = reference.forward(new State(args, null, null).args64());
        float[] y = new float[y64.length];
        for (int i = 0; i < y.length; i++) {
            y[i] = (float) y64[i];
        }
        return new State(args, y, dy);
    }

    @Override
    public String toString() {
        return op.describe(inputs);
    }
}
