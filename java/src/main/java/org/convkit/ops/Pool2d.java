package org.convkit.ops;

import java.util.List;
import java.util.Objects;

import org.convkit.ops.grad.Gradient;
import org.convkit.ops.grad.Pool2dGrad;
import org.convkit.tensor.Shape;

/**
 * 2-D max or average pooling on NCHW input: ops {@code maxpool2d} (ONNX MaxPool) and
 * {@code avgpool2d} (ONNX AveragePool), one descriptor with a {@link Mode}.
 *
 * <p>Each output element reduces one window of its own channel: kernel {@code kh x kw}, taps
 * {@code dilation} apart, windows {@code stride} apart. Padding follows {@link Padding} (SAME is
 * ONNX {@code SAME_UPPER}); padded positions never take part in a maximum, and take part in an
 * average only through its divisor when {@code countIncludePad} is set (ONNX
 * {@code count_include_pad}; TensorFlow's SAME average excludes them, hence the default false).
 *
 * <p><b>Output size</b> per axis, with {@code extent = (k - 1) * d + 1} and {@code pb, pa} the
 * pads before and after:
 * <ul>
 *   <li>floor mode (default): {@code floor((in + pb + pa - extent) / s) + 1};</li>
 *   <li>{@code ceilMode} (ONNX {@code ceil_mode}): {@code ceil((in + pb + pa - extent) / s) + 1},
 *       then, as the ONNX spec and PyTorch do, minus one if the last window would start in the
 *       after-padding, i.e. if {@code (out - 1) * s >= in + pb}. The extra window may overhang
 *       the padded input; the overhang is neither read nor counted in any divisor;</li>
 *   <li>SAME / SAME_LOWER: {@code ceil(in / s)} whatever {@code ceilMode} says (ONNX computes
 *       auto_pad shapes without it).</li>
 * </ul>
 *
 * <p><b>Rules</b> (each rejected with an {@link IllegalArgumentException} naming the parameter):
 * kernel, stride and dilation positive; explicit pads smaller than the dilated kernel extent of
 * their axis (as ONNX runtimes and PyTorch require); {@code countIncludePad} only for average
 * pooling; the (dilated) kernel fits the padded input; and every window covers at least one
 * input element (a dilated window can otherwise fall between image and padding, where neither
 * a maximum nor an average exists).
 *
 * <p>No learned parameters. <b>FLOPs</b>: one per window element read per output, i.e. one
 * comparison (max) or one addition (average) per input element inside the window; padded taps
 * are not read and not counted, nor is the average's final division.
 */
public final class Pool2d implements Op {
    /** Maximum or average. */
    public enum Mode {
        /** ONNX MaxPool: op name {@code maxpool2d}. */
        MAX("maxpool2d"),
        /** ONNX AveragePool: op name {@code avgpool2d}. */
        AVG("avgpool2d");

        private final String opName;

        Mode(String opName) {
            this.opName = opName;
        }

        /** The op name, e.g. {@code maxpool2d}. */
        public String opName() {
            return opName;
        }
    }

    private final Mode mode;
    private final int kernelH;
    private final int kernelW;
    private final int strideH;
    private final int strideW;
    private final int dilationH;
    private final int dilationW;
    private final Padding padding;
    private final boolean ceilMode;
    private final boolean countIncludePad;

    private Pool2d(Builder b) {
        this.mode = b.mode;
        this.kernelH = b.kernelH;
        this.kernelW = b.kernelW;
        this.strideH = b.strideH;
        this.strideW = b.strideW;
        this.dilationH = b.dilationH;
        this.dilationW = b.dilationW;
        this.padding = b.padding;
        this.ceilMode = b.ceilMode;
        this.countIncludePad = b.countIncludePad;
        positive("kernelH", kernelH);
        positive("kernelW", kernelW);
        positive("strideH", strideH);
        positive("strideW", strideW);
        positive("dilationH", dilationH);
        positive("dilationW", dilationW);
        if (padding == null) {
            throw new IllegalArgumentException(name() + ": padding must not be null");
        }
        if (countIncludePad && mode != Mode.AVG) {
            throw new IllegalArgumentException(name() + ": countIncludePad applies to average pooling only");
        }
        if (padding instanceof Padding.Explicit e) {
            long extentH = extent(kernelH, dilationH);
            long extentW = extent(kernelW, dilationW);
            padBelowExtent("top", e.top(), "height", kernelH, dilationH, extentH);
            padBelowExtent("bottom", e.bottom(), "height", kernelH, dilationH, extentH);
            padBelowExtent("left", e.left(), "width", kernelW, dilationW, extentW);
            padBelowExtent("right", e.right(), "width", kernelW, dilationW, extentW);
        }
    }

    private void positive(String param, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(name() + ": " + param + " must be positive, got " + v);
        }
    }

    private void padBelowExtent(String side, int pad, String axis, int k, int d, long extent) {
        if (pad >= extent) {
            throw new IllegalArgumentException(name() + ": pad " + side + " " + pad + " must be smaller than the kernel "
                    + axis + " extent " + extent + " (kernel " + k + (d > 1 ? ", dilation " + d : "") + ") in "
                    + padding.id() + "; a larger pad makes windows that hold only padding");
        }
    }

    private static long extent(int k, int d) {
        return (long) (k - 1) * d + 1;
    }

    /** A max-pooling builder with a square kernel (stride 1, no dilation, VALID, floor mode until set). */
    public static Builder max(int kernel) {
        return new Builder(Mode.MAX).kernel(kernel);
    }

    /** A max-pooling builder with a {@code kh x kw} kernel. */
    public static Builder max(int kh, int kw) {
        return new Builder(Mode.MAX).kernel(kh, kw);
    }

    /** An average-pooling builder with a square kernel (stride 1, no dilation, VALID, floor mode, padding excluded from the divisor until set). */
    public static Builder avg(int kernel) {
        return new Builder(Mode.AVG).kernel(kernel);
    }

    /** An average-pooling builder with a {@code kh x kw} kernel. */
    public static Builder avg(int kh, int kw) {
        return new Builder(Mode.AVG).kernel(kh, kw);
    }

    /**
     * The pooling resolved for one input shape: every size and pad the kernels and the
     * references need, validated. {@code oh, ow} follow the class comment's rules.
     */
    public record Geometry(int n, int c, int h, int w, int oh, int ow, int kh, int kw, int sh, int sw, int dh, int dw,
            int padTop, int padLeft, int padBottom, int padRight, Mode mode, boolean ceilMode, boolean countIncludePad) {
        public Shape inputShape() {
            return Shape.nchw(n, c, h, w);
        }

        public Shape outputShape() {
            return Shape.nchw(n, c, oh, ow);
        }

        /** Input elements read over all outputs (the FLOP count): window taps that land inside the input. */
        public long windowReads() {
            long rows = 0;
            for (int o = 0; o < oh; o++) {
                rows += tapsInside(o * (long) sh - padTop, kh, dh, h);
            }
            long cols = 0;
            for (int o = 0; o < ow; o++) {
                cols += tapsInside(o * (long) sw - padLeft, kw, dw, w);
            }
            return Math.multiplyExact(Math.multiplyExact((long) n * c, rows), cols);
        }
    }

    /** Taps {@code j < k} of a window starting at {@code start} whose index {@code start + j * d} lies in [0, in). */
    static long tapsInside(long start, int k, int d, int in) {
        long lo = start >= 0 ? 0 : Math.ceilDiv(-start, d);
        long hi = start >= in ? 0 : Math.min(k, (in - 1 - start) / d + 1);
        return Math.max(0, hi - lo);
    }

    /** Resolves and validates this pooling for an NCHW input. */
    public Geometry geometry(Shape input) {
        Objects.requireNonNull(input, name() + ": input shape");
        if (input.rank() != 4) {
            throw new IllegalArgumentException(name() + ": input must be NCHW (rank 4), got shape " + input + " of rank "
                    + input.rank());
        }
        int[] rows = resolveAxis(input, 0, input.h(), kernelH, strideH, dilationH);
        int[] cols = resolveAxis(input, 1, input.w(), kernelW, strideW, dilationW);
        return new Geometry(input.n(), input.c(), input.h(), input.w(), rows[2], cols[2], kernelH, kernelW, strideH,
                strideW, dilationH, dilationW, rows[0], cols[0], rows[1], cols[1], mode, ceilMode, countIncludePad);
    }

    /** {@code {padBefore, padAfter, outputSize}} of one axis, following the class comment. */
    private int[] resolveAxis(Shape input, int axis, int in, int k, int s, int d) {
        String axisName = axis == 0 ? "height" : "width";
        int[] r;
        try {
            r = padding.resolve(name(), axis, in, k, s, d);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + " (input " + input + ")", e);
        }
        long out = r[2];
        if (ceilMode && !(padding instanceof Padding.Same)) {
            long span = (long) in + r[0] + r[1] - extent(k, d);
            out = Math.ceilDiv(span, s) + 1;
            if ((out - 1) * s >= (long) in + r[0]) {
                out--;
            }
        }
        if (out > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name() + ": output " + axisName + " " + out + " of input " + input
                    + " does not fit in an int");
        }
        for (int o = 0; o < out; o++) {
            long start = o * (long) s - r[0];
            if (tapsInside(start, k, d, in) == 0) {
                throw new IllegalArgumentException(name() + ": output " + axisName + " index " + o + " has a window ("
                        + "kernel " + k + ", dilation " + d + ", stride " + s + ", pads " + r[0] + "+" + r[1]
                        + ") that covers no element of the input " + axisName + " " + in + " (input " + input + ")");
            }
        }
        return new int[] {r[0], r[1], (int) out};
    }

    /** Output shape for one NCHW input: {@code [N, C, OH, OW]}. */
    public Shape outputShape(Shape input) {
        return geometry(input).outputShape();
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        return outputShape(inputs.get(0));
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        requireArity(inputs);
        geometry(inputs.get(0));
        return List.of();
    }

    @Override
    public long flops(List<Shape> inputs) {
        requireArity(inputs);
        return flops(inputs.get(0));
    }

    /** FLOPs of one run: one per input element read inside each output's window (see the class comment). */
    public long flops(Shape input) {
        Geometry g = geometry(input);
        try {
            return g.windowReads();
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(name() + ": FLOP count of " + describe(input) + " overflows a long", e);
        }
    }

    /** The input gradient, {@link Pool2dGrad}: average pooling reads dy only, max pooling also x and y. */
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

    /** The case as a string, e.g. {@code maxpool2d(n=1,c=64,h=112,w=112,k=3,s=2,pads(1,1,1,1))}. */
    public String describe(Shape input) {
        StringBuilder sb = new StringBuilder(name()).append('(');
        if (input.rank() == 4) {
            sb.append("n=").append(input.n()).append(",c=").append(input.c()).append(",h=").append(input.h())
                    .append(",w=").append(input.w()).append(',');
        } else {
            sb.append("in=").append(input).append(',');
        }
        return sb.append(hyperParameters()).append(')').toString();
    }

    private String hyperParameters() {
        StringBuilder sb = new StringBuilder();
        sb.append("k=").append(pair(kernelH, kernelW)).append(",s=").append(pair(strideH, strideW));
        if (dilationH != 1 || dilationW != 1) {
            sb.append(",d=").append(pair(dilationH, dilationW));
        }
        sb.append(',').append(padding.id());
        if (ceilMode) {
            sb.append(",ceil");
        }
        if (countIncludePad) {
            sb.append(",include_pad");
        }
        return sb.toString();
    }

    private static String pair(int a, int b) {
        return a == b ? Integer.toString(a) : a + "x" + b;
    }

    /** {@code maxpool2d} or {@code avgpool2d}. */
    @Override
    public String name() {
        return mode.opName();
    }

    public Mode mode() {
        return mode;
    }

    public int kernelH() {
        return kernelH;
    }

    public int kernelW() {
        return kernelW;
    }

    public int strideH() {
        return strideH;
    }

    public int strideW() {
        return strideW;
    }

    public int dilationH() {
        return dilationH;
    }

    public int dilationW() {
        return dilationW;
    }

    public Padding padding() {
        return padding;
    }

    /** ONNX {@code ceil_mode}. */
    public boolean ceilMode() {
        return ceilMode;
    }

    /** ONNX {@code count_include_pad} (average pooling only). */
    public boolean countIncludePad() {
        return countIncludePad;
    }

    /** A builder initialised with this pooling's settings. */
    public Builder toBuilder() {
        Builder b = new Builder(mode);
        b.kernelH = kernelH;
        b.kernelW = kernelW;
        b.strideH = strideH;
        b.strideW = strideW;
        b.dilationH = dilationH;
        b.dilationW = dilationW;
        b.padding = padding;
        b.ceilMode = ceilMode;
        b.countIncludePad = countIncludePad;
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Pool2d p && p.mode == mode && p.kernelH == kernelH && p.kernelW == kernelW
                && p.strideH == strideH && p.strideW == strideW && p.dilationH == dilationH && p.dilationW == dilationW
                && p.padding.equals(padding) && p.ceilMode == ceilMode && p.countIncludePad == countIncludePad;
    }

    @Override
    public int hashCode() {
        return Objects.hash(mode, kernelH, kernelW, strideH, strideW, dilationH, dilationW, padding, ceilMode,
                countIncludePad);
    }

    @Override
    public String toString() {
        return name() + "(" + hyperParameters() + ")";
    }

    /** Builds a {@link Pool2d}; {@link #build()} validates every setting. */
    public static final class Builder {
        private final Mode mode;
        private int kernelH = 1;
        private int kernelW = 1;
        private int strideH = 1;
        private int strideW = 1;
        private int dilationH = 1;
        private int dilationW = 1;
        private Padding padding = Padding.VALID;
        private boolean ceilMode;
        private boolean countIncludePad;

        private Builder(Mode mode) {
            this.mode = Objects.requireNonNull(mode, "pool2d: mode");
        }

        /** Square kernel. */
        public Builder kernel(int k) {
            return kernel(k, k);
        }

        public Builder kernel(int kh, int kw) {
            this.kernelH = kh;
            this.kernelW = kw;
            return this;
        }

        /** The same stride on both axes (ONNX's default is 1; Keras defaults it to the pool size). */
        public Builder stride(int s) {
            return stride(s, s);
        }

        public Builder stride(int sh, int sw) {
            this.strideH = sh;
            this.strideW = sw;
            return this;
        }

        /** The same dilation on both axes. */
        public Builder dilation(int d) {
            return dilation(d, d);
        }

        public Builder dilation(int dh, int dw) {
            this.dilationH = dh;
            this.dilationW = dw;
            return this;
        }

        public Builder padding(Padding p) {
            this.padding = p;
            return this;
        }

        /** ONNX {@code ceil_mode}: round the output size up (see the class comment). */
        public Builder ceilMode(boolean ceil) {
            this.ceilMode = ceil;
            return this;
        }

        /** ONNX {@code count_include_pad}: padded taps count in an average's divisor (average pooling only). */
        public Builder countIncludePad(boolean include) {
            this.countIncludePad = include;
            return this;
        }

        public Pool2d build() {
            return new Pool2d(this);
        }
    }
}
