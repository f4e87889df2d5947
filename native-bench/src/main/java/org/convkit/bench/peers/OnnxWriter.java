package org.convkit.bench.peers;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes ONNX models ({@code ModelProto}) in protobuf's wire format, the subset a model of
 * float32 tensors needs: nodes with INT, INTS, FLOAT and STRING attributes, float32
 * initializers as {@code raw_data}, and graph inputs and outputs of fixed shape. Field numbers
 * are those of the ONNX specification's {@code onnx.proto} (the ones convkit's reader,
 * {@code org.convkit.onnx.Onnx}, reads).
 *
 * <pre>
 * OnnxWriter w = new OnnxWriter("net", 13);
 * w.input("x", 1, 3, 8, 8).initializer("W", weights, 4, 3, 3, 3)
 *  .node("Conv", List.of("x", "W"), List.of("y"), OnnxWriter.ints("pads", 1, 1, 1, 1)).output("y", 1, 4, 8, 8);
 * byte[] model = w.toBytes();
 * </pre>
 */
public final class OnnxWriter {
    /** ONNX {@code TensorProto.DataType.FLOAT}. */
    static final int FLOAT = 1;
    /** IR version 7 is the one that goes with opset 13 (ONNX 1.8). */
    static final long IR_VERSION = 7;

    private final String graphName;
    private final long opset;
    private final Proto graph = new Proto();
    private final List<Proto> inputs = new ArrayList<>();
    private final List<Proto> outputs = new ArrayList<>();
    private final List<Proto> initializers = new ArrayList<>();
    private final List<Proto> nodes = new ArrayList<>();

    /** A model whose graph is named {@code graphName}, for the default domain's operator set {@code opset}. */
    public OnnxWriter(String graphName, long opset) {
        this.graphName = graphName;
        this.opset = opset;
    }

    /** An attribute of a node: its name, type and value, written once and reusable. */
    public static final class Attribute {
        private final Proto proto = new Proto();

        private Attribute(String name, int type) {
            proto.string(1, name);
            proto.varint(20, type);
        }
    }

    /** An INT attribute. */
    public static Attribute i(String name, long value) {
        Attribute a = new Attribute(name, 2);
        a.proto.varint(3, value);
        return a;
    }

    /** A FLOAT attribute. */
    public static Attribute f(String name, float value) {
        Attribute a = new Attribute(name, 1);
        a.proto.fixed32(2, Float.floatToRawIntBits(value));
        return a;
    }

    /** A STRING attribute. */
    public static Attribute s(String name, String value) {
        Attribute a = new Attribute(name, 3);
        a.proto.string(4, value);
        return a;
    }

    /** An INTS attribute (packed). */
    public static Attribute ints(String name, long... values) {
        Attribute a = new Attribute(name, 7);
        a.proto.packedVarints(8, values);
        return a;
    }

    /** Declares a float32 graph input of fixed shape. */
    public OnnxWriter input(String name, long... dims) {
        inputs.add(valueInfo(name, dims));
        return this;
    }

    /** Declares a float32 graph output of fixed shape. */
    public OnnxWriter output(String name, long... dims) {
        outputs.add(valueInfo(name, dims));
        return this;
    }

    /** A float32 initializer: {@code data} holds the elements in row-major order. */
    public OnnxWriter initializer(String name, float[] data, long... dims) {
        return initializer(name, MemorySegment.ofArray(data), dims);
    }

    /** A float32 initializer from native or heap memory holding exactly the elements, row-major. */
    public OnnxWriter initializer(String name, MemorySegment data, long... dims) {
        long count = 1;
        for (long d : dims) {
            count *= d;
        }
        if (data.byteSize() != count * Float.BYTES) {
            throw new IllegalArgumentException("onnx writer: initializer '" + name + "' of dims " + java.util.Arrays.toString(dims)
                    + " needs " + count * Float.BYTES + " bytes, got " + data.byteSize());
        }
        byte[] raw = new byte[(int) data.byteSize()];
        // raw_data is little-endian whatever the host's order.
        MemorySegment.copy(data, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, MemorySegment.ofArray(raw),
                ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, count);
        Proto t = new Proto();
        t.packedVarints(1, dims);
        t.varint(2, FLOAT);
        t.string(8, name);
        t.bytes(9, raw);
        initializers.add(t);
        return this;
    }

    /** A node of the default domain; nodes must be added in topological order. */
    public OnnxWriter node(String opType, List<String> in, List<String> out, Attribute... attributes) {
        Proto n = new Proto();
        for (String s : in) {
            n.string(1, s);
        }
        for (String s : out) {
            n.string(2, s);
        }
        n.string(3, out.get(0));
        n.string(4, opType);
        for (Attribute a : attributes) {
            n.message(5, a.proto);
        }
        nodes.add(n);
        return this;
    }

    /** The serialized ModelProto. */
    public byte[] toBytes() {
        Proto g = new Proto();
        nodes.forEach(n -> g.message(1, n));
        g.string(2, graphName);
        initializers.forEach(t -> g.message(5, t));
        inputs.forEach(v -> g.message(11, v));
        outputs.forEach(v -> g.message(12, v));
        Proto opsetId = new Proto();
        opsetId.string(1, "");
        opsetId.varint(2, opset);
        Proto m = new Proto();
        m.varint(1, IR_VERSION);
        m.string(2, "convkit-bench");
        m.string(3, "1");
        m.message(7, g);
        m.message(8, opsetId);
        return m.toBytes();
    }

    private static Proto valueInfo(String name, long[] dims) {
        Proto shape = new Proto();
        for (long d : dims) {
            Proto dim = new Proto();
            dim.varint(1, d);
            shape.message(1, dim);
        }
        Proto tensorType = new Proto();
        tensorType.varint(1, FLOAT);
        tensorType.message(2, shape);
        Proto type = new Proto();
        type.message(1, tensorType);
        Proto v = new Proto();
        v.string(1, name);
        v.message(2, type);
        return v;
    }

    /** One message being written: fields appended in call order. */
    static final class Proto {
        private static final int VARINT = 0;
        private static final int FIXED32 = 5;
        private static final int LENGTH = 2;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        private void rawVarint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }

        private void tag(int field, int wireType) {
            rawVarint(((long) field << 3) | wireType);
        }

        void varint(int field, long v) {
            tag(field, VARINT);
            rawVarint(v);
        }

        void fixed32(int field, int bits) {
            tag(field, FIXED32);
            for (int k = 0; k < 4; k++) {
                out.write(bits >>> (8 * k));
            }
        }

        void bytes(int field, byte[] b) {
            tag(field, LENGTH);
            rawVarint(b.length);
            out.writeBytes(b);
        }

        void string(int field, String s) {
            bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        void message(int field, Proto m) {
            bytes(field, m.toBytes());
        }

        void packedVarints(int field, long[] values) {
            Proto p = new Proto();
            for (long v : values) {
                p.rawVarint(v);
            }
            bytes(field, p.toBytes());
        }

        byte[] toBytes() {
            return out.toByteArray();
        }
    }
}
