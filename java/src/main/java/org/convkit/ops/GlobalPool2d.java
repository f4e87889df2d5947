package org.convkit.ops;

import java.util.List;
import java.util.Objects;

import org.convkit.ops.grad.Gradient;
import org.convkit.ops.grad.Pool2dGrad;
import org.convkit.tensor.Shape;

/**
 * Global pooling on NCHW input: ops {@code globalavgpool2d} (ONNX GlobalAveragePool) and
 * {@code globalmaxpool2d} (ONNX GlobalMaxPool). Each {@code (n, c)} plane of {@code H x W}
 * reduces to one value: {@code [N, C, H, W] -> [N, C, 1, 1]}. The squeeze of an SE block and the
 * head of ResNet, Xception and GoogLeNet.
 *
 * <p>No hyper-parameters, no learned parameters. <b>FLOPs</b>: one per input element read (one
 * addition or one comparison each), {@code N * C * H * W}; the average's final division is not
 * counted.
 */
public final class GlobalPool2d implements Op {
    /** Average or maximum over the plane. */
    public enum Mode {
        /** ONNX GlobalAveragePool: op name {@code globalavgpool2d}. */
        AVG("globalavgpool2d"),
        /** ONNX GlobalMaxPool: op name {@code globalmaxpool2d}. */
        MAX("globalmaxpool2d");

        private final String opName;

        Mode(String opName) {
            this.opName = opName;
        }

        /** The op name, e.g. {@code globalavgpool2d}. */
        public String opName() {
            return opName;
        }
    }

    private static final GlobalPool2d AVG = new GlobalPool2d(Mode.AVG);
    private static final GlobalPool2d MAX = new GlobalPool2d(Mode.MAX);

    private final Mode mode;

    private GlobalPool2d(Mode mode) {
        this.mode = mode;
    }

    /** Global average pooling. */
    public static GlobalPool2d avg() {
        return AVG;
    }

    /** Global max pooling. */
    public static GlobalPool2d max() {
        return MAX;
    }

    /** The global pooling of this mode. */
    public static GlobalPool2d of(Mode mode) {
        if (mode == null) {
            throw new IllegalArgumentException("globalpool2d: mode must not be null");
        }
        return mode == Mode.AVG ? AVG : MAX;
    }

    public Mode mode() {
        return mode;
    }

    /** {@code globalavgpool2d} or {@code globalmaxpool2d}. */
    @Override
    public String name() {
        return mode.opName();
    }

    /** Checks that {@code input} is NCHW; returns it. */
    private Shape requireNchw(Shape input) {
        Objects.requireNonNull(input, name() + ": input shape");
        if (input.rank() != 4) {
            throw new IllegalArgumentException(name() + ": input must be NCHW (rank 4), got shape " + input + " of rank "
                    + input.rank());
        }
        return input;
    }

    /** {@code [N, C, 1, 1]} for an NCHW input. */
    public Shape outputShape(Shape input) {
        requireNchw(input);
        return Shape.nchw(input.n(), input.c(), 1, 1);
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        return outputShape(inputs.get(0));
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        requireArity(inputs);
        requireNchw(inputs.get(0));
        return List.of();
    }

    @Override
    public long flops(List<Shape> inputs) {
        requireArity(inputs);
        return flops(inputs.get(0));
    }

    /** FLOPs of one run: {@code N * C * H * W} (one per element read). */
    public long flops(Shape input) {
        return requireNchw(input).elementCount();
    }

    /** The input gradient: that of the pooling whose window is the whole plane ({@link Pool2dGrad}). */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        requireArity(inputs);
        return List.of(Pool2dGrad.of(this, inputs.get(0)).ofInput(0));
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        return describe(inputs.get(0));
    }

    /** The case as a string, e.g. {@code globalavgpool2d(n=1,c=2048,h=7,w=7)}. */
    public String describe(Shape input) {
        if (input.rank() == 4) {
            return name() + "(n=" + input.n() + ",c=" + input.c() + ",h=" + input.h() + ",w=" + input.w() + ")";
        }
        return name() + "(in=" + input + ")";
    }

    @Override
    public String toString() {
        return name();
    }
}
