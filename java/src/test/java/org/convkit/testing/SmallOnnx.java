package org.convkit.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A tiny ONNX model written by hand in protobuf's wire format (field numbers of onnx.proto): one
 * 3x3 convolution of a 1x1x5x5 input, its weight an initializer held in the file or, for the
 * external-data tests, in another file. The weight is 1..9 / 10.
 */
public final class SmallOnnx {
    /** The weight's 36 bytes, little-endian floats. */
    public static final byte[] WEIGHT = weight();

    private SmallOnnx() {
    }

    /** The model with the weight in the file. */
    public static byte[] conv() {
        return model(tensor(WEIGHT, null));
    }

    /** The model with the weight as external data: {@code entries} are its key/value pairs (location, offset, length). */
    public static byte[] convExternal(Map<String, String> entries) {
        return model(tensor(null, entries));
    }

    private static byte[] weight() {
        ByteBuffer b = ByteBuffer.allocate(36).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 1; i <= 9; i++) {
            b.putFloat(i / 10f);
        }
        return b.array();
    }

    private static byte[] tensor(byte[] raw, Map<String, String> external) {
        Proto t = new Proto();
        for (int d : new int[] {1, 1, 3, 3}) {
            t.varint(1, d);
        }
        t.varint(2, 1);
        t.string(8, "w");
        if (raw != null) {
            t.bytes(9, raw);
        } else {
            external.forEach((k, v) -> t.message(13, new Proto().string(1, k).string(2, v)));
            t.varint(14, 1);
        }
        return t.toBytes();
    }

    private static Proto valueInfo(String name, int... dims) {
        Proto shape = new Proto();
        for (int d : dims) {
            shape.message(1, new Proto().varint(1, d));
        }
        Proto tensorType = new Proto().varint(1, 1).message(2, shape);
        return new Proto().string(1, name).message(2, new Proto().message(1, tensorType));
    }

    private static byte[] model(byte[] initializer) {
        Proto node = new Proto().string(1, "x").string(1, "w").string(2, "y").string(3, "conv").string(4, "Conv");
        Proto graph = new Proto().message(1, node).string(2, "small").bytes(5, initializer)
                .message(11, valueInfo("x", 1, 1, 5, 5)).message(12, valueInfo("y", 1, 1, 3, 3));
        return new Proto().varint(1, 8).message(7, graph).message(8, new Proto().varint(2, 13)).toBytes();
    }

    /** A message being written. */
    private static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long v) {
            tag(field, 0);
            raw(v);
            return this;
        }

        Proto string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto m) {
            return bytes(field, m.toBytes());
        }

        Proto bytes(int field, byte[] b) {
            tag(field, 2);
            raw(b.length);
            out.writeBytes(b);
            return this;
        }

        private void tag(int field, int wire) {
            raw((long) field << 3 | wire);
        }

        private void raw(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }

        byte[] toBytes() {
            return out.toByteArray();
        }
    }
}
