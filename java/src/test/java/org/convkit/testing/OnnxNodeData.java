package org.convkit.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.convkit.tensor.Shape;

/**
 * Reads ONNX's single-operator conformance data ({@code shared/conformance/onnx/node/<test>/}) for
 * tests: the node's operator type and integer attributes from {@code model.onnx}, and the float
 * tensors {@code test_data_set_0/input_K.pb} and {@code output_0.pb}. A minimal protobuf walker
 * over the few fields needed, with the field numbers of onnx.proto: ModelProto.graph = 7,
 * GraphProto.node = 1, NodeProto.op_type = 4, NodeProto.attribute = 5, AttributeProto.name = 1,
 * AttributeProto.i = 3; TensorProto.dims = 1, data_type = 2 (1 = FLOAT), float_data = 4,
 * raw_data = 9 (little-endian). Anything else is skipped by wire type.
 */
public final class OnnxNodeData {
    /** A float tensor read from a TensorProto. */
    public record FloatTensor(Shape shape, float[] values) {
    }

    /** One test case: the node's op type and integer attributes, its inputs and expected output. */
    public record NodeCase(String name, String opType, Map<String, Long> intAttributes, List<FloatTensor> inputs,
            FloatTensor output) {
    }

    private OnnxNodeData() {
    }

    /**
     * The folder {@code shared/conformance/onnx/node} beside the project (found by walking up from
     * the working directory), or null if it is not there.
     */
    public static Path nodeRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("shared/conformance/onnx/node");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /** Reads test folder {@code dir}: model.onnx and test_data_set_0. */
    public static NodeCase read(Path dir) {
        Map<Integer, List<Object>> model = fields(bytes(dir.resolve("model.onnx")));
        Map<Integer, List<Object>> graph = fields((byte[]) model.get(7).get(0));
        Map<Integer, List<Object>> node = fields((byte[]) graph.get(1).get(0));
        String opType = new String((byte[]) node.get(4).get(0), StandardCharsets.UTF_8);
        Map<String, Long> ints = new LinkedHashMap<>();
        for (Object a : node.getOrDefault(5, List.of())) {
            Map<Integer, List<Object>> attr = fields((byte[]) a);
            if (attr.containsKey(3)) {
                ints.put(new String((byte[]) attr.get(1).get(0), StandardCharsets.UTF_8), (Long) attr.get(3).get(0));
            }
        }
        Path data = dir.resolve("test_data_set_0");
        List<FloatTensor> inputs = new ArrayList<>();
        for (int k = 0; Files.exists(data.resolve("input_" + k + ".pb")); k++) {
            inputs.add(tensor(bytes(data.resolve("input_" + k + ".pb"))));
        }
        return new NodeCase(dir.getFileName().toString(), opType, ints, inputs, tensor(bytes(data.resolve("output_0.pb"))));
    }

    private static byte[] bytes(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + p, e);
        }
    }

    private static FloatTensor tensor(byte[] proto) {
        Map<Integer, List<Object>> t = fields(proto);
        long type = (Long) t.get(2).get(0);
        if (type != 1) {
            throw new IllegalArgumentException("onnx: tensor of data_type " + type + ", only FLOAT (1) is read here");
        }
        List<Integer> dims = new ArrayList<>();
        for (Object d : t.getOrDefault(1, List.of())) {
            if (d instanceof byte[] packed) {
                ByteBuffer b = ByteBuffer.wrap(packed);
                while (b.hasRemaining()) {
                    dims.add((int) varint(b));
                }
            } else {
                dims.add((int) (long) (Long) d);
            }
        }
        float[] values;
        if (t.containsKey(9)) {
            ByteBuffer raw = ByteBuffer.wrap((byte[]) t.get(9).get(0)).order(ByteOrder.LITTLE_ENDIAN);
            values = new float[raw.remaining() / Float.BYTES];
            raw.asFloatBuffer().get(values);
        } else {
            List<Float> fs = new ArrayList<>();
            for (Object f : t.getOrDefault(4, List.of())) {
                if (f instanceof byte[] packed) {
                    ByteBuffer b = ByteBuffer.wrap(packed).order(ByteOrder.LITTLE_ENDIAN);
                    while (b.hasRemaining()) {
                        fs.add(b.getFloat());
                    }
                } else {
                    fs.add(Float.intBitsToFloat((Integer) f));
                }
            }
            values = new float[fs.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = fs.get(i);
            }
        }
        Shape shape = Shape.of(dims.stream().mapToInt(Integer::intValue).toArray());
        if (shape.elementCount() != values.length) {
            throw new IllegalArgumentException("onnx: tensor " + shape + " holds " + values.length + " values");
        }
        return new FloatTensor(shape, values);
    }

    /**
     * The fields of one message by number: varints as Long, fixed32 as Integer, fixed64 as Long,
     * length-delimited as byte[].
     */
    private static Map<Integer, List<Object>> fields(byte[] message) {
        Map<Integer, List<Object>> out = new LinkedHashMap<>();
        ByteBuffer b = ByteBuffer.wrap(message).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            long key = varint(b);
            int field = (int) (key >>> 3);
            Object value = switch ((int) (key & 7)) {
                case 0 -> varint(b);
                case 1 -> b.getLong();
                case 2 -> {
                    byte[] v = new byte[(int) varint(b)];
                    b.get(v);
                    yield v;
                }
                case 5 -> b.getInt();
                default -> throw new IllegalArgumentException("onnx: unsupported wire type " + (key & 7));
            };
            out.computeIfAbsent(field, k -> new ArrayList<>()).add(value);
        }
        return out;
    }

    private static long varint(ByteBuffer b) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte x = b.get();
            v |= (long) (x & 0x7f) << shift;
            if (x >= 0) {
                return v;
            }
        }
        throw new IllegalArgumentException("onnx: malformed varint");
    }
}
