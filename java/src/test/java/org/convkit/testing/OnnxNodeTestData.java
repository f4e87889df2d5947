package org.convkit.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.convkit.backend.Device;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.memory.Allocator;
import org.convkit.ops.Op;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;

/**
 * Reads the ONNX single-node conformance data under {@code ../shared/conformance/onnx/node/}
 * (see that folder's README) for op tests: the node's type and attributes from
 * {@code model.onnx}, and the float / int64 tensors of {@code test_data_set_0}. A test-only
 * protobuf decoder that knows just the fields it needs, by their numbers in {@code onnx.proto};
 * it is no model importer.
 *
 * <p>Where the folder is absent (a user's clone has no {@code ../shared}) the tests that ask for
 * it skip, saying why, except in CI ({@code CONVKIT_REQUIRE_OPENCL} set), where it is a failure.
 */
public final class OnnxNodeTestData {
    /** The ONNX test runner's default tolerances: {@code |y - e| <= ATOL + RTOL * |e|}. */
    public static final double RTOL = 1e-3;
    public static final double ATOL = 1e-7;

    private OnnxNodeTestData() {
    }

    /** One graph node: its type, inputs by name and attributes (float, int or ints values). */
    public record Node(String opType, List<String> inputs, Map<String, Object> attributes) {
        public float f(String name, float fallback) {
            return attributes.get(name) instanceof Float v ? v : fallback;
        }

        public long i(String name, long fallback) {
            return attributes.get(name) instanceof Long v ? v : fallback;
        }
    }

    /** A tensor: dims (empty for a scalar), and its float or int64 values. */
    public record Data(String name, int[] dims, float[] floats, long[] ints) {
        /** The shape, with ONNX's rank-0 scalar spelled {@code [1]}. */
        public Shape shape() {
            return dims.length == 0 ? Shape.of(1) : Shape.of(dims);
        }
    }

    /** One conformance test: its folder name, the node, the inputs and expected outputs. */
    public record Case(String name, Node node, List<Data> inputs, List<Data> outputs) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** The node-test folder, or a skip (a failure in CI) when it is absent. */
    public static Path root() {
        String dir = System.getProperty("convkit.shared.dir", "../../shared");
        Path p = Path.of(dir, "conformance", "onnx", "node");
        if (!Files.isDirectory(p)) {
            String why = "ONNX conformance data not found at " + p.toAbsolutePath().normalize();
            if (TestDevices.openClRequired()) {
                fail(why + " (required in CI)");
            }
            Assumptions.abort(why + "; conformance tests skipped");
        }
        return p;
    }

    /** Every test folder whose name starts with {@code prefix}, e.g. {@code test_gemm_}. */
    public static List<Case> cases(String prefix) {
        try (Stream<Path> dirs = Files.list(root())) {
            List<Case> out = new ArrayList<>();
            for (Path d : dirs.filter(d -> d.getFileName().toString().startsWith(prefix)).sorted().toList()) {
                out.add(load(d));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Case load(Path dir) throws IOException {
        Node node = node(Files.readAllBytes(dir.resolve("model.onnx")));
        Path set = dir.resolve("test_data_set_0");
        List<Data> inputs = new ArrayList<>();
        List<Data> outputs = new ArrayList<>();
        for (int i = 0; Files.exists(set.resolve("input_" + i + ".pb")); i++) {
            inputs.add(tensor(Files.readAllBytes(set.resolve("input_" + i + ".pb"))));
        }
        for (int i = 0; Files.exists(set.resolve("output_" + i + ".pb")); i++) {
            outputs.add(tensor(Files.readAllBytes(set.resolve("output_" + i + ".pb"))));
        }
        return new Case(dir.getFileName().toString(), node, inputs, outputs);
    }

    /**
     * Runs {@code op} on {@code device} with these argument values (inputs then parameters) and
     * returns the output; every buffer is freed.
     */
    public static float[] run(Device device, Op op, List<Shape> inputs, List<float[]> args) {
        Allocator host = Allocator.root("conformance host");
        List<DeviceBuffer> buffers = new ArrayList<>();
        try (Kernel kernel = device.prepare(op, inputs)) {
            List<Shape> shapes = kernel.argumentShapes();
            for (int i = 0; i < shapes.size(); i++) {
                try (Tensor t = Tensor.of(shapes.get(i), args.get(i), host, "arg" + i)) {
                    DeviceBuffer b = device.allocate(t.byteSize(), "arg" + i);
                    buffers.add(b);
                    device.upload(t, b);
                }
            }
            try (Tensor result = Tensor.allocate(kernel.outputShape(), DType.F32, host, "result");
                    DeviceBuffer out = device.allocate(result.byteSize(), "output")) {
                kernel.run(buffers, out);
                device.download(out, result);
                return result.toFloatArray();
            }
        } finally {
            buffers.forEach(DeviceBuffer::close);
            host.close();
        }
    }

    /** Asserts {@code |y - e| <= ATOL + RTOL * |e|} element by element, naming the first miss. */
    public static void assertClose(String what, float[] expected, float[] y) {
        if (expected.length != y.length) {
            fail(what + ": " + y.length + " outputs, expected " + expected.length);
        }
        for (int i = 0; i < y.length; i++) {
            double bound = ATOL + RTOL * Math.abs(expected[i]);
            if (!(Math.abs(y[i] - expected[i]) <= bound)) {
                fail(what + ": output " + i + " is " + y[i] + ", expected " + expected[i] + " (rtol " + RTOL + ", atol "
                        + ATOL + ")");
            }
        }
    }

    /** The first (only) node of a ModelProto. */
    static Node node(byte[] model) {
        byte[] graph = new Reader(model).first(7);
        byte[] node = new Reader(graph).first(1);
        String opType = null;
        List<String> inputs = new ArrayList<>();
        Map<String, Object> attributes = new HashMap<>();
        Reader r = new Reader(node);
        while (r.more()) {
            int key = r.key();
            switch (key >>> 3) {
                case 1 -> inputs.add(r.string());
                case 4 -> opType = r.string();
                case 5 -> attribute(r.bytes(), attributes);
                default -> r.skip(key);
            }
        }
        return new Node(opType, inputs, attributes);
    }

    private static void attribute(byte[] bytes, Map<String, Object> into) {
        Reader r = new Reader(bytes);
        String name = null;
        Object value = null;
        List<Long> ints = new ArrayList<>();
        while (r.more()) {
            int key = r.key();
            switch (key >>> 3) {
                case 1 -> name = r.string();
                case 2 -> value = Float.intBitsToFloat(r.fixed32());
                case 3 -> value = r.varint();
                case 8 -> r.varints(key, ints);
                default -> r.skip(key);
            }
        }
        into.put(name, value != null ? value : ints);
    }

    /** A TensorProto of FLOAT (1) or INT64 (7). */
    static Data tensor(byte[] bytes) {
        Reader r = new Reader(bytes);
        List<Long> dims = new ArrayList<>();
        List<Long> int64 = new ArrayList<>();
        List<Float> floats = new ArrayList<>();
        int type = 0;
        String name = "";
        byte[] raw = null;
        while (r.more()) {
            int key = r.key();
            switch (key >>> 3) {
                case 1 -> r.varints(key, dims);
                case 2 -> type = (int) r.varint();
                case 4 -> {
                    if ((key & 7) == 2) {
                        ByteBuffer b = ByteBuffer.wrap(r.bytes()).order(ByteOrder.LITTLE_ENDIAN);
                        while (b.hasRemaining()) {
                            floats.add(b.getFloat());
                        }
                    } else {
                        floats.add(Float.intBitsToFloat(r.fixed32()));
                    }
                }
                case 7 -> r.varints(key, int64);
                case 8 -> name = r.string();
                case 9 -> raw = r.bytes();
                default -> r.skip(key);
            }
        }
        if (type != 1 && type != 7) {
            throw new IllegalStateException("tensor " + name + ": data type " + type + " is neither FLOAT nor INT64");
        }
        int[] d = dims.stream().mapToInt(Long::intValue).toArray();
        if (raw != null) {
            ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining()) {
                if (type == 1) {
                    floats.add(b.getFloat());
                } else {
                    int64.add(b.getLong());
                }
            }
        }
        float[] f = new float[floats.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = floats.get(i);
        }
        return new Data(name, d, f, int64.stream().mapToLong(Long::longValue).toArray());
    }

    /** Protobuf wire format, the parts these files use. */
    private static final class Reader {
        private final byte[] b;
        private int pos;

        Reader(byte[] b) {
            this.b = b;
        }

        boolean more() {
            return pos < b.length;
        }

        int key() {
            return (int) varint();
        }

        long varint() {
            long v = 0;
            for (int shift = 0;; shift += 7) {
                byte x = b[pos++];
                v |= (long) (x & 0x7f) << shift;
                if (x >= 0) {
                    return v;
                }
            }
        }

        int fixed32() {
            int v = (b[pos] & 0xff) | (b[pos + 1] & 0xff) << 8 | (b[pos + 2] & 0xff) << 16 | (b[pos + 3] & 0xff) << 24;
            pos += 4;
            return v;
        }

        byte[] bytes() {
            int n = (int) varint();
            byte[] out = java.util.Arrays.copyOfRange(b, pos, pos + n);
            pos += n;
            return out;
        }

        String string() {
            return new String(bytes(), StandardCharsets.UTF_8);
        }

        /** A repeated varint field, packed (wire type 2) or not. */
        void varints(int key, List<Long> into) {
            if ((key & 7) == 2) {
                Reader inner = new Reader(bytes());
                while (inner.more()) {
                    into.add(inner.varint());
                }
            } else {
                into.add(varint());
            }
        }

        /** The first field {@code field} of length-delimited type. */
        byte[] first(int field) {
            while (more()) {
                int key = key();
                if (key >>> 3 == field && (key & 7) == 2) {
                    return bytes();
                }
                skip(key);
            }
            throw new IllegalStateException("protobuf: no field " + field);
        }

        void skip(int key) {
            switch (key & 7) {
                case 0 -> varint();
                case 1 -> pos += 8;
                case 2 -> {
                    // Read the length first: "pos += varint()" would add it to pos as it was before the read.
                    int n = (int) varint();
                    pos += n;
                }
                case 5 -> pos += 4;
                default -> throw new IllegalStateException("protobuf: wire type " + (key & 7) + " unsupported");
            }
        }
    }
}
