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
 * read from files beside the model, which must stay inside the model's folder; a model parsed
 * from bytes has no folder and refuses them.
 */
public final class Onnx {
    /** Largest file read (a Java array's limit). */
    public static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

    private Onnx() {
    }

    /** Reads a model file. */
    public static OnnxModel readModel(Path file) {
        return parseModel(read(file), file.toString(), folder(file));
    }

    /** Reads a serialized TensorProto ({@code input_0.pb}, {@code output_0.pb}). */
    public static OnnxTensor readTensor(Path file) {
        byte[] bytes = read(file);
        return guarded(file.toString(), () -> tensor(new ProtoReader(bytes, file.toString()), folder(file)));
    }

    /** Parses a model from bytes; {@code what} names it in errors. */
    public static OnnxModel parseModel(byte[] bytes, String what) {
        return parseModel(bytes, what, null);
    }

    private static OnnxModel parseModel(byte[] bytes, String what, ExternalData external) {
        return guarded(what, () -> model(new ProtoReader(bytes, what), what, external));
    }

    private static OnnxModel model(ProtoReader r, String what, ExternalData external) {
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
                case 7 -> graph = graph(message(r, "graph"), external);
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
        return guarded(what, () -> tensor(new ProtoReader(bytes, what), null));
    }

    /**
     * Runs a parse, turning any exception that is not convkit's into an
     * {@link OnnxFormatException} that keeps it as the cause: a reader bug must not reach the
     * caller as an unchecked surprise (the fuzz tests still see the cause and report it).
     */
    private static <T> T guarded(String what, java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (org.convkit.ConvkitException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new OnnxFormatException(what + ": cannot be read (internal error of the reader: " + e + ")", e);
        }
    }

    /** Reads a tensor's external data; {@code bytes} is the size its header declares. */
    @FunctionalInterface
    private interface ExternalData {
        byte[] read(Map<String, String> entries, long bytes, String label, ProtoReader r);
    }

    /**
     * External data beside {@code file}: a {@code location} relative to the file's folder that
     * stays inside it (no absolute path, no "..", no link that leads out), a regular file, and
     * {@code offset} / {@code length} inside it that hold exactly the bytes the header declares:
     * all checked before anything is read or allocated.
     */
    private static ExternalData folder(Path file) {
        Path dir = file.toAbsolutePath().normalize().getParent();
        return (entries, bytes, label, r) -> {
            String loc = entries.getOrDefault("location", "");
            String where = label + ": external data '" + loc + "'";
            if (loc.isEmpty()) {
                throw r.error(label + " is stored as external data without a location");
            }
            Path rel;
            try {
                rel = Path.of(loc);
            } catch (java.nio.file.InvalidPathException e) {
                throw r.error(where + " is not a valid path");
            }
            if (rel.isAbsolute() || rel.getRoot() != null) {
                throw r.error(where + " is an absolute path; it must be relative to the model's folder");
            }
            Path target = dir.resolve(rel).normalize();
            if (!target.startsWith(dir) || target.equals(dir)) {
                throw r.error(where + " leaves the model's folder " + dir);
            }
            try {
                Path real = target.toRealPath();
                if (!real.startsWith(dir.toRealPath())) {
                    throw r.error(where + " leads out of the model's folder " + dir + " through a link");
                }
                if (!Files.isRegularFile(real)) {
                    throw r.error(where + " is not a regular file");
                }
                long offset = number(entries.get("offset"), 0, where + " offset", r);
                long size = Files.size(real);
                if (offset > size) {
                    throw r.error(where + " offset " + offset + " is past its end (" + size + " bytes)");
                }
                long length = number(entries.get("length"), size - offset, where + " length", r);
                if (length > size - offset) {
                    throw r.error(where + " length " + length + " at offset " + offset + " runs past its end (" + size
                            + " bytes)");
                }
                if (length != bytes) {
                    throw r.error(where + " holds " + length + " bytes but the tensor declares " + bytes);
                }
                ByteBuffer buf = ByteBuffer.allocate((int) length);
                try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(real)) {
                    while (buf.hasRemaining()) {
                        if (ch.read(buf, offset + buf.position()) < 0) {
                            throw r.error(where + " ended early");
                        }
                    }
                }
                return buf.array();
            } catch (IOException e) {
                throw r.error(where + " cannot be read: " + e);
            }
        };
    }

    private static long number(String text, long fallback, String what, ProtoReader r) {
        if (text == null) {
            return fallback;
        }
        try {
            long v = Long.parseLong(text.trim());
            if (v < 0) {
                throw r.error(what + " is negative: " + v);
            }
            return v;
        } catch (NumberFormatException e) {
            throw r.error(what + " is not a number: '" + text + "'");
        }
    }

    private static byte[] read(Path file) {
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new OnnxFormatException(file + ": " + size + " bytes is more than convkit reads in one file ("
                        + MAX_FILE_BYTES + "); store the weights as external data");
            }
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new OnnxFormatException(file + ": cannot read: " + e, e);
        }
    }

    private static OnnxGraph graph(ProtoReader r, ExternalData external) {
        String name = "";
        List<OnnxNode> nodes = new ArrayList<>();
        List<OnnxTensor> initializers = new ArrayList<>();
        List<OnnxValueInfo> inputs = new ArrayList<>();
        List<OnnxValueInfo> outputs = new ArrayList<>();
        while (r.hasMore()) {
            switch (r.nextField()) {
                case 1 -> nodes.add(node(message(r, "node"), external));
                case 2 -> name = string(r);
                case 5 -> initializers.add(tensor(message(r, "initializer"), external));
                case 11 -> inputs.add(valueInfo(message(r, "input")));
                case 12 -> outputs.add(valueInfo(message(r, "output")));
                case 15 -> throw r.error("sparse initializers are not supported");
                default -> r.skip();
            }
        }
        return new OnnxGraph(name, List.copyOf(nodes), List.copyOf(initializers), List.copyOf(inputs), List.copyOf(outputs));
    }

    private static OnnxNode node(ProtoReader r, ExternalData external) {
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
                    OnnxAttribute a = attribute(message(r, "attribute"), external);
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

    private static OnnxAttribute attribute(ProtoReader r, ExternalData external) {
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
                case 5 -> t = tensor(message(r, "attribute tensor"), external);
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

    /**
     * Reads a TensorProto in two passes: the first reads the header (dimensions, type, where the
     * data is) and only measures the data fields; the declared size is checked against them, and
     * against Java's array limit, before the second pass allocates the data and decodes into it.
     * A hostile header therefore costs nothing: a claim of a terabyte is refused at once, and no
     * buffer is ever larger than what the file's own bytes can fill.
     */
    private static OnnxTensor tensor(ProtoReader r, ExternalData external) {
        ProtoReader.LongList dims = new ProtoReader.LongList();
        int type = 0;
        String name = "";
        long valueBytes = 0;
        int rawFields = 0;
        boolean externalData = false;
        Map<String, String> location = new LinkedHashMap<>();
        ProtoReader header = r.rewind();
        while (header.hasMore()) {
            switch (header.nextField()) {
                case 1 -> header.readVarints(dims);
                case 2 -> type = (int) varint(header);
                case 3 -> throw header.error("segmented tensors are not supported");
                case 4, 5, 7, 10, 11 -> valueBytes += header.wireType() == ProtoReader.LENGTH ? header.skipLength()
                        : skipCounting(header);
                case 8 -> name = string(header);
                case 9 -> {
                    header.expect(ProtoReader.LENGTH);
                    header.skipLength();
                    rawFields++;
                }
                case 13 -> {
                    ProtoReader entry = message(header, "external_data");
                    String key = "";
                    String value = "";
                    while (entry.hasMore()) {
                        switch (entry.nextField()) {
                            case 1 -> key = string(entry);
                            case 2 -> value = string(entry);
                            default -> entry.skip();
                        }
                    }
                    location.put(key, value);
                }
                case 14 -> externalData = varint(header) == 1;
                default -> header.skip();
            }
        }
        String label = "tensor '" + name + "'";
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
        long bytes = count * size;
        if (bytes > MAX_FILE_BYTES) {
            throw r.error(label + " declares " + count + " " + OnnxTensor.typeName(type) + " elements (" + bytes
                    + " bytes), more than convkit holds in one tensor (" + MAX_FILE_BYTES + " bytes)");
        }
        if (externalData) {
            if (rawFields > 0 || valueBytes > 0) {
                throw r.error(label + " is stored as external data but also holds data in the file");
            }
            if (external == null) {
                throw r.error(label + " is stored as external data, which needs the model's folder: read the model "
                        + "with Onnx.readModel(path)");
            }
            return new OnnxTensor(name, type, d, external.read(location, bytes, label, r));
        }
        if (rawFields > 1 || (rawFields == 1 && valueBytes > 0)) {
            throw r.error(label + " holds its data in more than one field");
        }
        if (rawFields == 0 && count > valueBytes) {
            throw r.error(label + " declares " + count + " elements but its value fields hold only " + valueBytes
                    + " bytes");
        }
        byte[] data = rawFields == 1 ? null : new byte[(int) bytes];
        ByteBuffer out = data == null ? null : ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        long values = 0;
        ProtoReader.LongList field = new ProtoReader.LongList();
        while (r.hasMore()) {
            int f = r.nextField();
            switch (f) {
                case 4, 5, 7, 10, 11 -> {
                    field.clear();
                    switch (f) {
                        case 4 -> r.readFixed32s(field);
                        case 10 -> r.readFixed64s(field);
                        default -> r.readVarints(field);
                    }
                    values += field.size();
                    if (values > count) {
                        throw r.error(label + " declares " + count + " elements but holds more values");
                    }
                    for (int k = 0; k < field.size(); k++) {
                        put(out, size, field.get(k));
                    }
                }
                case 9 -> {
                    byte[] raw = bytes(r);
                    if (raw.length != bytes) {
                        throw r.error(label + " declares " + count + " " + OnnxTensor.typeName(type) + " elements ("
                                + bytes + " bytes) but raw_data holds " + raw.length + " bytes");
                    }
                    data = raw;
                    values = count;
                }
                default -> r.skip();
            }
        }
        if (values != count) {
            throw r.error(label + " declares " + count + " elements but holds " + values + " values");
        }
        return new OnnxTensor(name, type, d, data);
    }

    /** Skips one unpacked value field and returns its bytes. */
    private static int skipCounting(ProtoReader r) {
        return switch (r.wireType()) {
            case ProtoReader.FIXED32 -> {
                r.skip();
                yield 4;
            }
            case ProtoReader.FIXED64 -> {
                r.skip();
                yield 8;
            }
            default -> {
                r.expect(ProtoReader.VARINT);
                r.readVarint();
                yield 1;
            }
        };
    }

    /** Writes one value of a typed field as little-endian bytes of the element type. */
    private static void put(ByteBuffer b, int size, long v) {
        switch (size) {
            case 1 -> b.put((byte) v);
            // float_data holds FLOAT16 as its 16 bits in int32_data.
            case 2 -> b.putShort((short) v);
            case 4 -> b.putInt((int) v);
            default -> b.putLong(v);
        }
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
