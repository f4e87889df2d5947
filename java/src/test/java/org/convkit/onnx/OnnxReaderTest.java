package org.convkit.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.convkit.testing.SharedData;
import org.junit.jupiter.api.Test;

class OnnxReaderTest {
    private static List<Path> files(Path dir, String glob) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.getFileSystem().getPathMatcher("glob:" + glob).matches(p.getFileName())).sorted().toList();
        }
    }

    @Test
    void aConvTestReadsAsTheOnnxSpecWritesIt() {
        Path dir = SharedData.onnxNode().resolve("test_conv_with_strides_no_padding");
        OnnxModel m = Onnx.readModel(dir.resolve("model.onnx"));
        assertTrue(m.opset() >= 1);
        OnnxGraph g = m.graph();
        assertEquals(1, g.nodes().size());
        OnnxNode conv = g.nodes().get(0);
        assertEquals("Conv", conv.opType());
        assertEquals(List.of("x", "W"), conv.inputs());
        assertEquals(List.of("y"), conv.outputs());
        assertArrayEquals(new long[] {3, 3}, conv.intsAttr("kernel_shape", null));
        assertArrayEquals(new long[] {0, 0, 0, 0}, conv.intsAttr("pads", null));
        assertArrayEquals(new long[] {2, 2}, conv.intsAttr("strides", null));
        assertEquals("x", g.inputs().get(0).name());
        assertArrayEquals(new long[] {1, 1, 7, 5}, g.inputs().get(0).dims());
        assertEquals(OnnxTensor.FLOAT, g.inputs().get(0).elemType());

        OnnxTensor x = Onnx.readTensor(dir.resolve("test_data_set_0/input_0.pb"));
        assertArrayEquals(new long[] {1, 1, 7, 5}, x.dims());
        float[] xs = x.floats();
        for (int i = 0; i < 35; i++) {
            assertEquals(i, xs[i]);
        }
        OnnxTensor y = Onnx.readTensor(dir.resolve("test_data_set_0/output_0.pb"));
        assertArrayEquals(new long[] {1, 1, 3, 2}, y.dims());
        // The same numbers as the hand-worked case in Conv2dRefTest.
        assertArrayEquals(new float[] {54, 72, 144, 162, 234, 252}, y.floats());
    }

    @Test
    void everyConformanceFileReads() throws IOException {
        List<Path> models = files(SharedData.onnxNode(), "model.onnx");
        assertTrue(models.size() >= 100, "node tests found: " + models.size());
        int tensors = 0;
        for (Path p : models) {
            OnnxModel m = Onnx.readModel(p);
            assertTrue(!m.graph().nodes().isEmpty(), p.toString());
        }
        for (Path p : files(SharedData.onnxNode(), "*.pb")) {
            OnnxTensor t = Onnx.readTensor(p);
            assertEquals(t.elementCount(), t.data().length / OnnxTensor.elementSize(t.dataType()), p.toString());
            tensors++;
        }
        assertTrue(tensors >= 200, "tensors read: " + tensors);
        for (Path p : files(SharedData.onnxLight(), "*.onnx")) {
            OnnxModel m = Onnx.readModel(p);
            assertTrue(m.graph().nodes().size() > 5, p + " has " + m.graph().nodes().size() + " nodes");
        }
        for (Path p : files(SharedData.onnxLight(), "*_output_0.pb")) {
            assertTrue(Onnx.readTensor(p).elementCount() > 0, p.toString());
        }
    }

    /** A TensorProto by hand: dims (unpacked), FLOAT, raw_data of {@code raw} bytes. */
    private static byte[] tensorBytes(long[] dims, int rawBytes) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (long d : dims) {
            b.write(0x08);
            writeVarint(b, d);
        }
        b.write(0x10);
        b.write(1);
        b.write(0x4A);
        writeVarint(b, rawBytes);
        b.writeBytes(new byte[rawBytes]);
        return b.toByteArray();
    }

    private static void writeVarint(java.io.ByteArrayOutputStream b, long v) {
        while ((v & ~0x7FL) != 0) {
            b.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        b.write((int) v);
    }

    @Test
    void declaredSizesAreCheckedBeforeAnythingIsAllocated() {
        OnnxTensor ok = Onnx.parseTensor(tensorBytes(new long[] {2, 3}, 24), "ok");
        assertEquals(6, ok.elementCount());
        OnnxFormatException terabyte = assertThrows(OnnxFormatException.class,
                () -> Onnx.parseTensor(tensorBytes(new long[] {1 << 20, 1 << 20, 1 << 10}, 16), "huge"));
        assertTrue(terabyte.getMessage().contains("declares more than"), terabyte.getMessage());
        OnnxFormatException mismatch = assertThrows(OnnxFormatException.class,
                () -> Onnx.parseTensor(tensorBytes(new long[] {4, 4}, 16), "short"));
        assertTrue(mismatch.getMessage().contains("declares 16 FLOAT elements (64 bytes) but raw_data holds 16 bytes"),
                mismatch.getMessage());
        byte[] negative = tensorBytes(new long[] {-3}, 0);
        assertThrows(OnnxFormatException.class, () -> Onnx.parseTensor(negative, "negative"));
    }

    @Test
    void truncatedAndGarbageInputIsAFormatErrorNeverACrash() throws IOException {
        byte[] model = Files.readAllBytes(SharedData.onnxNode().resolve("test_conv_with_strides_padding/model.onnx"));
        for (int cut = 0; cut < model.length; cut++) {
            byte[] truncated = java.util.Arrays.copyOf(model, cut);
            try {
                Onnx.parseModel(truncated, "truncated");
            } catch (OnnxFormatException expected) {
                assertTrue(expected.getMessage().startsWith("truncated"), expected.getMessage());
            }
        }
        SplittableRandom r = new SplittableRandom(11);
        byte[] tensor = Files.readAllBytes(SharedData.onnxNode().resolve("test_conv_with_strides_padding/test_data_set_0/input_0.pb"));
        for (int k = 0; k < 3000; k++) {
            byte[] m = (k % 2 == 0 ? model : tensor).clone();
            for (int flips = 1 + r.nextInt(4); flips > 0; flips--) {
                m[r.nextInt(m.length)] = (byte) r.nextInt(256);
            }
            try {
                if (k % 2 == 0) {
                    Onnx.parseModel(m, "mutant");
                } else {
                    Onnx.parseTensor(m, "mutant").floats();
                }
            } catch (OnnxFormatException expected) {
                assertTrue(!expected.getMessage().isBlank());
            }
        }
    }
}
