package org.convkit.onnx;

import java.util.Arrays;
import java.util.List;

/**
 * A node attribute as read. Only the field its {@link #type()} names is meaningful.
 *
 * @param name attribute name, e.g. {@code kernel_shape}
 * @param type ONNX {@code AttributeProto.AttributeType} code
 * @param f FLOAT value
 * @param i INT value
 * @param s STRING value (UTF-8)
 * @param t TENSOR value, or null
 * @param floats FLOATS values
 * @param ints INTS values
 * @param strings STRINGS values
 */
public record OnnxAttribute(String name, int type, float f, long i, String s, OnnxTensor t, float[] floats, long[] ints,
        List<String> strings) {
    public static final int FLOAT = 1;
    public static final int INT = 2;
    public static final int STRING = 3;
    public static final int TENSOR = 4;
    public static final int GRAPH = 5;
    public static final int FLOATS = 6;
    public static final int INTS = 7;
    public static final int STRINGS = 8;

    private OnnxFormatException wrongType(String wanted) {
        return new OnnxFormatException("attribute '" + name + "' is of type " + type + ", expected " + wanted);
    }

    public long asInt() {
        if (type != INT) {
            throw wrongType("INT");
        }
        return i;
    }

    public float asFloat() {
        if (type != FLOAT) {
            throw wrongType("FLOAT");
        }
        return f;
    }

    public String asString() {
        if (type != STRING) {
            throw wrongType("STRING");
        }
        return s;
    }

    public long[] asInts() {
        if (type != INTS) {
            throw wrongType("INTS");
        }
        return ints.clone();
    }

    public float[] asFloats() {
        if (type != FLOATS) {
            throw wrongType("FLOATS");
        }
        return floats.clone();
    }

    public OnnxTensor asTensor() {
        if (type != TENSOR || t == null) {
            throw wrongType("TENSOR");
        }
        return t;
    }

    @Override
    public String toString() {
        return switch (type) {
            case FLOAT -> name + "=" + f;
            case INT -> name + "=" + i;
            case STRING -> name + "='" + s + "'";
            case INTS -> name + "=" + Arrays.toString(ints);
            case FLOATS -> name + "=" + Arrays.toString(floats);
            case TENSOR -> name + "=" + t;
            default -> name + " (type " + type + ")";
        };
    }
}
