package org.convkit.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import org.convkit.memory.Allocator;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * A TensorProto as read: name, element type, dimensions and the data as little-endian bytes of
 * that type (whether the file stored it as {@code raw_data} or in a typed field). The element
 * count and the data length were checked against each other when it was read.
 *
 * @param name the tensor's name (may be empty)
 * @param dataType ONNX {@code TensorProto.DataType} code
 * @param dims dimensions (empty for a scalar)
 * @param data little-endian element data, {@code elementCount * elementSize} bytes
 */
public record OnnxTensor(String name, int dataType, long[] dims, byte[] data) {
    /** ONNX data type codes convkit reads. */
    public static final int FLOAT = 1;
    public static final int UINT8 = 2;
    public static final int INT8 = 3;
    public static final int UINT16 = 4;
    public static final int INT16 = 5;
    public static final int INT32 = 6;
    public static final int INT64 = 7;
    public static final int BOOL = 9;
    public static final int FLOAT16 = 10;
    public static final int DOUBLE = 11;
    public static final int UINT32 = 12;
    public static final int UINT64 = 13;

    /** Bytes per element of a data type, or 0 if convkit does not read it. */
    public static int elementSize(int dataType) {
        return switch (dataType) {
            case UINT8, INT8, BOOL -> 1;
            case UINT16, INT16, FLOAT16 -> 2;
            case FLOAT, INT32, UINT32 -> 4;
            case INT64, DOUBLE, UINT64 -> 8;
            default -> 0;
        };
    }

    /** The ONNX name of a data type code, e.g. {@code FLOAT}. */
    public static String typeName(int dataType) {
        return switch (dataType) {
            case FLOAT -> "FLOAT";
            case UINT8 -> "UINT8";
            case INT8 -> "INT8";
            case UINT16 -> "UINT16";
            case INT16 -> "INT16";
            case INT32 -> "INT32";
            case INT64 -> "INT64";
            case 8 -> "STRING";
            case BOOL -> "BOOL";
            case FLOAT16 -> "FLOAT16";
            case DOUBLE -> "DOUBLE";
            case UINT32 -> "UINT32";
            case UINT64 -> "UINT64";
            case 16 -> "BFLOAT16";
            default -> "type " + dataType;
        };
    }

    public long elementCount() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    /** Whether the elements are floating point (FLOAT, FLOAT16, DOUBLE). */
    public boolean isFloatingPoint() {
        return dataType == FLOAT || dataType == FLOAT16 || dataType == DOUBLE;
    }

    private ByteBuffer buffer() {
        return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The elements as floats (any numeric type converts). */
    public float[] floats() {
        int n = (int) elementCount();
        float[] out = new float[n];
        ByteBuffer b = buffer();
        for (int i = 0; i < n; i++) {
            out[i] = switch (dataType) {
                case FLOAT -> b.getFloat();
                case FLOAT16 -> Float.float16ToFloat(b.getShort());
                case DOUBLE -> (float) b.getDouble();
                default -> (float) integerAt(b);
            };
        }
        return out;
    }

    /** The elements as longs; integer and boolean types only. */
    public long[] longs() {
        if (isFloatingPoint()) {
            throw new OnnxFormatException("tensor '" + name + "': " + typeName(dataType) + " elements are not integers");
        }
        int n = (int) elementCount();
        long[] out = new long[n];
        ByteBuffer b = buffer();
        for (int i = 0; i < n; i++) {
            out[i] = integerAt(b);
        }
        return out;
    }

    private long integerAt(ByteBuffer b) {
        return switch (dataType) {
            case UINT8, BOOL -> b.get() & 0xFF;
            case INT8 -> b.get();
            case UINT16 -> b.getShort() & 0xFFFF;
            case INT16 -> b.getShort();
            case INT32 -> b.getInt();
            case UINT32 -> b.getInt() & 0xFFFFFFFFL;
            case INT64, UINT64 -> b.getLong();
            default -> throw new OnnxFormatException("tensor '" + name + "': cannot read " + typeName(dataType));
        };
    }

    /** The dimensions as a convkit shape (a scalar becomes [1]). */
    public Shape shape() {
        if (dims.length == 0) {
            return Shape.of(1);
        }
        int[] d = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 1 || dims[i] > Integer.MAX_VALUE) {
                throw new OnnxFormatException("tensor '" + name + "': dimension " + i + " is " + dims[i]
                        + " (convkit tensors need every dimension in 1.." + Integer.MAX_VALUE + ")");
            }
            d[i] = (int) dims[i];
        }
        return Shape.of(d);
    }

    /** A host f32 tensor with these values, accounted in {@code allocator}. */
    public Tensor toTensor(Allocator allocator) {
        return Tensor.of(shape(), floats(), allocator, name.isEmpty() ? "onnx tensor" : name);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OnnxTensor t && t.name.equals(name) && t.dataType == dataType && Arrays.equals(t.dims, dims)
                && Arrays.equals(t.data, data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(dims) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "OnnxTensor[" + name + " " + typeName(dataType) + " " + Arrays.toString(dims) + "]";
    }
}
