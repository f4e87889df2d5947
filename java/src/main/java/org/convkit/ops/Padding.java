package org.convkit.ops;

/**
 * How a sliding window (convolution, pooling) pads its input.
 *
 * <ul>
 *   <li>{@link #SAME}: TensorFlow/Keras "same" = ONNX {@code SAME_UPPER}: output = ceil(in / stride),
 *       total padding = max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0), the smaller half
 *       before (top/left), the larger after (bottom/right).</li>
 *   <li>{@link #SAME_LOWER}: ONNX {@code SAME_LOWER}: the same total, the larger half before.</li>
 *   <li>{@link #VALID}: no padding; output = floor((in - extent) / stride) + 1, and the dilated
 *       kernel extent (k - 1) * dilation + 1 must fit in the input.</li>
 *   <li>{@link Explicit}: given pads; output = floor((in + before + after - extent) / stride) + 1.</li>
 * </ul>
 */
public sealed interface Padding {
    /** TensorFlow "same" (ONNX SAME_UPPER). */
    Padding SAME = new Same(false);
    /** ONNX SAME_LOWER. */
    Padding SAME_LOWER = new Same(true);
    /** No padding. */
    Padding VALID = new Valid();

    /** Explicit pads, in ONNX order for 2-D: top, left, bottom, right. */
    static Padding explicit(int top, int left, int bottom, int right) {
        return new Explicit(top, left, bottom, right);
    }

    /** The same explicit pad on all four sides. */
    static Padding explicit(int all) {
        return new Explicit(all, all, all, all);
    }

    /**
     * Resolves one spatial axis.
     *
     * @param op op name for messages
     * @param axis 0 = height (top/bottom pads), 1 = width (left/right pads)
     * @return {@code {padBefore, padAfter, outputSize}}; the output size is at least 1
     * @throws IllegalArgumentException if the window does not fit, naming op, axis and sizes
     */
    default int[] resolve(String op, int axis, int in, int kernel, int stride, int dilation) {
        long extent = (long) (kernel - 1) * dilation + 1;
        String axisName = axis == 0 ? "height" : "width";
        return switch (this) {
            case Same s -> {
                long out = (in + (long) stride - 1) / stride;
                long total = Math.max((out - 1) * stride + extent - in, 0);
                long small = total / 2;
                long before = s.lower() ? total - small : small;
                yield new int[] {(int) before, (int) (total - before), (int) out};
            }
            case Valid v -> {
                if (extent > in) {
                    throw new IllegalArgumentException(op + ": kernel " + axisName + " " + kernel
                            + (dilation > 1 ? " (dilated extent " + extent + ")" : "") + " is larger than the input "
                            + axisName + " " + in + " with VALID padding");
                }
                yield new int[] {0, 0, (int) ((in - extent) / stride + 1)};
            }
            case Explicit e -> {
                int before = axis == 0 ? e.top() : e.left();
                int after = axis == 0 ? e.bottom() : e.right();
                long padded = (long) in + before + after;
                if (extent > padded) {
                    throw new IllegalArgumentException(op + ": kernel " + axisName + " " + kernel
                            + (dilation > 1 ? " (dilated extent " + extent + ")" : "") + " is larger than the padded input "
                            + axisName + " " + padded + " (" + in + " + pads " + before + "+" + after + ")");
                }
                yield new int[] {before, after, (int) ((padded - extent) / stride + 1)};
            }
        };
    }

    /** Short form for case strings: {@code same}, {@code same_lower}, {@code valid}, {@code pads(1,1,2,2)}. */
    String id();

    /** SAME_UPPER ({@code lower == false}) or SAME_LOWER. */
    record Same(boolean lower) implements Padding {
        @Override
        public String id() {
            return lower ? "same_lower" : "same";
        }
    }

    /** No padding. */
    record Valid() implements Padding {
        @Override
        public String id() {
            return "valid";
        }
    }

    /** Explicit non-negative pads. */
    record Explicit(int top, int left, int bottom, int right) implements Padding {
        public Explicit {
            if (top < 0 || left < 0 || bottom < 0 || right < 0) {
                throw new IllegalArgumentException("padding: pads must be non-negative, got top=" + top + " left=" + left
                        + " bottom=" + bottom + " right=" + right);
            }
        }

        @Override
        public String id() {
            return "pads(" + top + "," + left + "," + bottom + "," + right + ")";
        }
    }
}
