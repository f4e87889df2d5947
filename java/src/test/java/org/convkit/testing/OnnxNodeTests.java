package org.convkit.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Assumptions;

/**
 * Reads ONNX's single-operator conformance tests from {@code ../shared/conformance/onnx/node/}
 * (see its README): each test's {@code test_data_set_0/input_K.pb} and {@code output_0.pb}. Only
 * what tests need: float32 TensorProtos, decoded from the protobuf wire format with the public
 * field numbers of onnx.proto (dims = 1, data_type = 2, float_data = 4, raw_data = 9). The
 * node's attributes are not read: each test states them as the builder calls they map to.
 *
 * <p>Where the data is absent (a clone without {@code ../shared}) the tests skip, saying so;
 * in CI ({@code CI} or {@code CONVKIT_REQUIRE_OPENCL} set, as {@code .ci/run} does) they fail.
 */
public final class OnnxNodeTests {
    private static final int FLOAT = 1;

    private OnnxNodeTests() {
    }

    /** A float tensor from a .pb file: its shape and its elements in row-major order. */
    public record Data(Shape shape, float[] values) {
    }

    /** The inputs and expected output of one node test. */
    public record NodeTest(String name, List<Data> inputs, Data output) {
    }

    /** The folder of node tests, or a skip (a failure in CI) when it is absent. */
    public static Path root() {
        String dir = System.getProperty("convkit.shared.dir", "../../shared");
        Path root = Path.of(dir, "conformance", "onnx", "node");
        if (!Files.isDirectory(root)) {
            String why = "ONNX conformance data not found at " + root.toAbsolutePath().normalize();
            String ci = System.getenv("CI");
            if (TestDevices.openClRequired() || (ci != null && !ci.isEmpty() && !ci.equalsIgnoreCase("false"))) {
                fail(why + " (required in CI)");
            }
            Assumptions.abort(why + "; conformance tests skipped");
        }
        return root;
    }

    /** Loads test {@code name} (e.g. {@code test_convtranspose_pads}): every input_K.pb in order, and output_0.pb. */
    public static NodeTest load(String name) {
        Path set = root().resolve(name).resolve("test_data_set_0");
        List<Data> inputs = new ArrayList<>();
        for (int k = 0; Files.exists(set.resolve("input_" + k + ".pb")); k++) {
            inputs.add(read(set.resolve("input_" + k + ".pb")));
        }
        return new NodeTest(name, List.copyOf(inputs), read(set.resolve("output_0.pb")));
    }

    /** The test's expected output, each element's error measured against {@code max(|y|, 1)}. */
    public static OpHarness.Expected expected(NodeTest t) {
        float[] v = t.output().values();
        double[] y = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            y[i] = v[i];
        }
        return new OpHarness.Expected(y, OpHarness.magnitudeScale(y, 1.0));
    }

    /** Fills a kernel's argument k with the test's input k. */
    public static OpHarness.Filler inputs(NodeTest t) {
        return (i, tensor, seed) -> {
            float[] v = t.inputs().get(i).values();
            MemorySegment.copy(v, 0, tensor.segment(), ValueLayout.JAVA_FLOAT, 0, v.length);
        };
    }

    /** Compares a reference's output (double) with the test's expected output, as {@link OpHarness#compare} does. */
    public static void compareReference(String what, Shape shape, double[] y, NodeTest t, double tolerance) {
        float[] f = new float[y.length];
        for (int i = 0; i < y.length; i++) {
            f[i] = (float) y[i];
        }
        OpHarness.compare(what, shape, f, expected(t), tolerance);
    }

    /** Decodes one float32 TensorProto. */
    public static Data read(Path pb) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(pb);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + pb, e);
        }
        Wire in = new Wire(bytes, pb);
        List<Integer> dims = new ArrayList<>();
        List<Float> floats = new ArrayList<>();
        byte[] raw = null;
        int type = -1;
        while (in.more()) {
            long key = in.varint();
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            switch (field) {
                case 1 -> {
                    if (wire == 2) {
                        Wire packed = in.sub();
                        while (packed.more()) {
                            dims.add(Math.toIntExact(packed.varint()));
                        }
                    } else {
                        dims.add(Math.toIntExact(in.varint()));
                    }
                }
                case 2 -> type = (int) in.varint();
                case 4 -> {
                    if (wire == 2) {
                        ByteBuffer b = ByteBuffer.wrap(in.bytes()).order(ByteOrder.LITTLE_ENDIAN);
                        while (b.hasRemaining()) {
                            floats.add(b.getFloat());
                        }
                    } else {
                        floats.add(Float.intBitsToFloat(in.fixed32()));
                    }
                }
                case 9 -> raw = in.bytes();
                default -> in.skip(wire);
            }
        }
        if (type != FLOAT) {
            throw new IllegalStateException(pb + ": data_type " + type + ", only float32 (1) is supported here");
        }
        float[] values;
        if (raw != null) {
            ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            values = new float[raw.length / 4];
            for (int i = 0; i < values.length; i++) {
                values[i] = b.getFloat();
            }
        } else {
            values = new float[floats.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = floats.get(i);
            }
        }
        Shape shape = Shape.of(dims.stream().mapToInt(Integer::intValue).toArray());
        if (shape.elementCount() != values.length) {
            throw new IllegalStateException(String.format(Locale.ROOT, "%s: shape %s holds %d elements, data has %d",
                    pb, shape, shape.elementCount(), values.length));
        }
        return new Data(shape, values);
    }

    /** The protobuf wire format: varints, fixed-width and length-delimited fields. */
    private static final class Wire {
        private final byte[] b;
        private final Path source;
        private int pos;
        private final int end;

        Wire(byte[] b, Path source) {
            this(b, source, 0, b.length);
        }

        private Wire(byte[] b, Path source, int pos, int end) {
            this.b = b;
            this.source = source;
            this.pos = pos;
            this.end = end;
        }

        boolean more() {
            return pos < end;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                int c = next();
                v |= (long) (c & 0x7f) << shift;
                if ((c & 0x80) == 0) {
                    return v;
                }
            }
            throw new IllegalStateException(source + ": malformed varint at byte " + pos);
        }

        int fixed32() {
            int v = 0;
            for (int i = 0; i < 4; i++) {
                v |= next() << (8 * i);
            }
            return v;
        }

        byte[] bytes() {
            int len = Math.toIntExact(varint());
            if (len < 0 || pos + len > end) {
                throw new IllegalStateException(source + ": field of " + len + " bytes overruns the message at byte " + pos);
            }
            byte[] out = java.util.Arrays.copyOfRange(b, pos, pos + len);
            pos += len;
            return out;
        }

        Wire sub() {
            int len = Math.toIntExact(varint());
            Wire w = new Wire(b, source, pos, pos + len);
            pos += len;
            return w;
        }

        void skip(int wire) {
            switch (wire) {
                case 0 -> varint();
                case 1 -> pos += 8;
                case 2 -> {
                    // Not "pos += varint()": Java reads pos before the varint advances it.
                    int len = Math.toIntExact(varint());
                    pos += len;
                }
                case 5 -> pos += 4;
                default -> throw new IllegalStateException(source + ": unsupported wire type " + wire + " at byte " + pos);
            }
        }

        private int next() {
            if (pos >= end) {
                throw new IllegalStateException(source + ": truncated at byte " + pos);
            }
            return b[pos++] & 0xff;
        }
    }
}
