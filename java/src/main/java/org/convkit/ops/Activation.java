package org.convkit.ops;

import java.util.Locale;

/** An element-wise function fused into the end of an op (applied after the bias). */
public enum Activation {
    /** Identity. */
    NONE(0),
    /** max(x, 0). */
    RELU(1);

    private final int code;

    Activation(int code) {
        this.code = code;
    }

    /** The integer kernels receive (the same in every kernel language). */
    public int code() {
        return code;
    }

    /** Lower-case name, e.g. {@code relu}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Applies the function in double precision, as the references do. */
    public double apply(double x) {
        return switch (this) {
            case NONE -> x;
            case RELU -> x < 0 ? 0.0 : x; // NaN stays NaN, as in the kernels
        };
    }
}
