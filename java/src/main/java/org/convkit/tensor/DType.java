package org.convkit.tensor;

import java.util.Locale;

/** Element types. Kernels exist for {@link #F32}; {@link #F16} is sized for planning and storage. */
public enum DType {
    /** IEEE 754 binary32. */
    F32(4),
    /** IEEE 754 binary16: host storage and footprint planning; no kernels yet. */
    F16(2);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** Lower-case name as the command line spells it: {@code f32}, {@code f16}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code f32}/{@code float32}/{@code f16}/{@code float16} (any case). */
    public static DType parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        return switch (t) {
            case "f32", "float32", "float" -> F32;
            case "f16", "float16", "half" -> F16;
            default -> throw new IllegalArgumentException("dtype: unknown element type '" + text + "' (expected f32 or f16)");
        };
    }
}
