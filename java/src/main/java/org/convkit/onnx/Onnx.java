package org.convkit.onnx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads ONNX models ({@code ModelProto}) and tensors ({@code TensorProto}, the {@code .pb} files of
 * ONNX test data) with convkit's own wire-format reader: the field numbers are those of the ONNX
 * specification's {@code onnx.proto}; fields convkit has no use for are skipped.
 *
 * <p>Malformed input of any kind is an {@link OnnxFormatException}: every length is checked
 * against the bytes that remain, and a tensor's declared element count is checked against the
 * data it holds before anything of that size is allocated. Tensors stored as external data are
 * refused for now.
 */
public final class Onnx {
    /** Largest file read (a Java array's limit). */
    public static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

    private Onnx() {
    }

    /** Reads a model file. */
    public static OnnxModel readModel(Path file) {
        return parseModel(read(file), file.toString());
    }

    /** Reads a serialized TensorProto ({@code input_0.pb}, {@code output_0.pb}). */
    public static OnnxTensor readTensor(Path file) {
        return tensor(new ProtoReader(read(file), file.toString()));
    }

    /** Parses a model from bytes; {@code what} names it in errors. */
    public static OnnxModel parseModel(byte[] bytes, String what) {
        ProtoReader r = new ProtoReader(bytes, what);
        long ir = 0;
        String producer = "";
        String producerVersion = "";
        Map<String, Long> opsets = new LinkedHashMap<>();
        OnnxGraph graph = null;
        while (r.hasMore()) {
            switch (r.nextField()) {
                case 1 -> ir = varint(r);
                case 2 -> producer = string(r);
                case 3 -> producerVersion = string(r);
                case 7 -> graph = graph(message(r, "graph"));
                case 8 -> {
                    ProtoReader o = message(r, "opset_import");
                    String domain = "";
                    long version = 1;
                    while (o.hasMore()) {
                        switch (o.nextField()) {
                            case 1 -> domain = string(o);
                            case 2 -> version = varint(o);
                            default -> o.skip();
                        }
                    }
                    opsets.put(domain, version);
                }
                default -> r.skip();
            }
        }
        if (graph == null) {
            throw new OnnxFormatException(what + ": no graph (is this an ONNX model?)");
        }
        return new OnnxModel(ir, (producer + " " + producerVersion).trim(), opsets, graph);
    }

    /** Parses a TensorProto from bytes; {@code what} names it in errors. */
    public static OnnxTensor parseTensor(byte[] bytes, String what) {
        return tensor(new ProtoReader(bytes, what));
    }

    private static byte[] read(Path file) {
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new OnnxFormatException(file + ": " + size + " bytes is more than convkit reads in one file ("
                        + MAX_FILE_BYTES + "); models with external data are not supported yet");
            }
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new OnnxFormatException(file + ": cannot read: " + e, e);
        }
    }

    private static OnnxGraph graph(ProtoReader r) {
        String name = "";
        List<OnnxNode> nodes = new ArrayList<>();
        List<OnnxTensor> initializers = new ArrayList<>();
        List<OnnxValueInfo> inputs = new ArrayList<>();
        List<OnnxValueInfo> outputs = new ArrayList<>();
        while (r.hasMore()) {
            switch (r.nextField()) {
                case 1 -> nodes.add(node(message(r, "node")));
                case 2 -> name = string(r);
                case 5 -> initializers.add(tensor(message(r, "initializer")));
                case 11 -> inputs.add(valueInfo(message(r, "input")));
                case 12 -> outputs.add(valueInfo(message(r, "output")));
                case 15 -> throw r.error("sparse initializers are not supported");
                default -> r.skip();
            }
        }
        return new OnnxGraph(name, List.copyOf(nodes), List.copyOf(initializers), List.copyOf(inputs), List.copyOf(outputs));
    }

    private static OnnxNode node(ProtoReader r) {
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        String name = "";
        String op = "";
        String domain = "";
        Map<String, OnnxAttribute> attributes = new LinkedHashMap<>();
        while (r.hasMore()) {
            switch (r.nextField()) {
                case 1 -> inputs.add(string(r));
                case 2 -> outputs.add(string(r));
                case 3 -> name = string(r);
                case 4 -> op = string(r);
                case 5 -> {
                    OnnxAttribute a = attribute(message(r, "attribute"));
                    attributes.put(a.name(), a);
                }
                case 7 -> domain = string(r);
                default -> r.skip();
            }
        }
        if (op.isEmpty()) {
            throw r.error("node '" + name + "' has no op_type");
        }
        return new OnnxNode(name, op, domain, List.copyOf(inputs), List.copyOf(outputs), Map.copyOf(attributes));
    }

    private static OnnxAttribute attribute(ProtoReader r) {
        String name = "";
        int type = 0;
        float f = 0;
        long i = 0;
        String s = null;
        OnnxTensor t = null;
        ProtoReader.LongList floats = new ProtoReader.LongList();
        ProtoReader.LongList ints = new ProtoReader.LongList();
        List<String> strings = new ArrayList<>();
        while (r.hasMore()) {
            switch (r.nextField()) {
                case 1 -> name = string(r);
                case 2 -> {
                    r.expect(ProtoReader.FIXED32);
                    f = r.readFloat();
                }
                case 3 -> i = varint(r);
                case 4 -> s = string(r);
                case 5 -> t = tensor(message(r, "attribute tensor"));
                case 7 -> r.readFixed32s(floats);
                case 8 -> r.readVarints(ints);
                case 9 -> strings.add(string(r));
                case 20 -> type = (int) varint(r);
                default -> r.skip();
            }
        }
        float[] fs = new float[floats.size()];
        for (int k = 0; k < fs.length; k++) {
            fs[k] = Float.intBitsToFloat((int) floats.get(k));
        }
        return new OnnxAttribute(name, type, f, i, s, t, fs, ints.toArray(), List.copyOf(strings));
    }

    private static OnnxValueInfo valueInfo(ProtoReader r) {
        String name = "";
        int elemType = 0;
        List<Long> dims = new ArrayList<>();
        while (r.hasMore()) {
            switch (r.nextField()) {
                case 1 -> name = string(r);
                case 2 -> {
                    ProtoReader type = message(r, "type");
                    while (type.hasMore()) {
                        if (type.nextField() != 1) {
                            type.skip();
                            continue;
                        }
                        ProtoReader tensor = message(type, "tensor_type");
                        while (tensor.hasMore()) {
                            switch (tensor.nextField()) {
                                case 1 -> elemType = (int) varint(tensor);
                                case 2 -> {
                                    ProtoReader shape = message(tensor, "shape");
                                    while (shape.hasMore()) {
                                        if (shape.nextField() != 1) {
                                            shape.skip();
                                            continue;
                                        }
                                        ProtoReader dim = message(shape, "dim");
                                        long value = -1;
                                        while (dim.hasMore()) {
                                            if (dim.nextField() == 1) {
                                                value = varint(dim);
                                            } else {
                                                dim.skip();
                                            }
                                        }
                                        dims.add(value);
                                    }
                                }
                                default -> tensor.skip();
                            }
                        }
                    }
                }
                default -> r.skip();
            }
        }
        return new OnnxValueInfo(name, elemType, dims.stream().mapToLong(Long::longValue).toArray());
    }

    private static OnnxTensor tensor(ProtoReader r) {
        ProtoReader.LongList dims = new ProtoReader.LongList();
        int type = 0;
        String name = "";
        byte[] raw = null;
        ProtoReader.LongList values = new ProtoReader.LongList();
        boolean external = false;
        while (r.hasMore()) {
            switch (r.nextField()) {
                case 1 -> r.readVarints(dims);
                case 2 -> type = (int) varint(r);
                case 3 -> throw r.error("segmented tensors are not supported");
                case 4 -> r.readFixed32s(values);
                case 5, 7, 11 -> r.readVarints(values);
                case 8 -> name = string(r);
                case 9 -> raw = bytes(r);
                case 10 -> r.readFixed64s(values);
                case 14 -> external = varint(r) == 1;
                default -> r.skip();
            }
        }
        String label = "tensor '" + name + "'";
        if (external) {
            throw r.error(label + " is stored as external data, which convkit does not read yet");
        }
        int size = OnnxTensor.elementSize(type);
        if (size == 0) {
            throw r.error(label + " has element type " + OnnxTensor.typeName(type) + ", which convkit does not read");
        }
        long count = 1;
        long[] d = dims.toArray();
        for (long dim : d) {
            if (dim < 0) {
                throw r.error(label + " has a negative dimension " + dim);
            }
            if (dim > 0 && count > Integer.MAX_VALUE / dim) {
                throw r.error(label + " declares more than " + Integer.MAX_VALUE + " elements: "
                        + java.util.Arrays.toString(d));
            }
            count *= dim;
        }
        byte[] data;
        if (raw != null) {
            if (raw.length != count * size) {
                throw r.error(label + " declares " + count + " " + OnnxTensor.typeName(type) + " elements ("
                        + count * size + " bytes) but raw_data holds " + raw.length + " bytes");
            }
            data = raw;
        } else {
            if (values.size() != count) {
                throw r.error(label + " declares " + count + " elements but holds " + values.size() + " values");
            }
            data = canonical(type, size, values);
        }
        return new OnnxTensor(name, type, d, data);
    }

    /** Values from a typed field as little-endian bytes of the element type. */
    private static byte[] canonical(int type, int size, ProtoReader.LongList values) {
        ByteBuffer b = ByteBuffer.allocate(values.size() * size).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < values.size(); k++) {
            long v = values.get(k);
            switch (size) {
                case 1 -> b.put((byte) v);
                // float_data holds FLOAT16 as its 16 bits in int32_data.
                case 2 -> b.putShort((short) v);
                case 4 -> b.putInt((int) v);
                default -> b.putLong(v);
            }
        }
        return b.array();
    }

    private static ProtoReader message(ProtoReader r, String name) {
        r.expect(ProtoReader.LENGTH);
        return r.readMessage(name);
    }

    private static long varint(ProtoReader r) {
        r.expect(ProtoReader.VARINT);
        return r.readVarint();
    }

    private static String string(ProtoReader r) {
        r.expect(ProtoReader.LENGTH);
        return r.readString();
    }

    private static byte[] bytes(ProtoReader r) {
        r.expect(ProtoReader.LENGTH);
        return r.readBytes();
    }
}
