package org.convkit.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.convkit.graph.Model;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.SmallOnnx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tensors stored as external data: read from a file beside the model, and only from inside the
 * model's folder; every size is checked before anything is read.
 */
@ExtendWith(HostLeakCheck.class)
class OnnxExternalDataTest {
    private static Path write(Path dir, byte[] model) throws IOException {
        Path file = dir.resolve("model.onnx");
        Files.write(file, model);
        return file;
    }

    private static OnnxFormatException refused(Path dir, Map<String, String> entries) throws IOException {
        return assertThrows(OnnxFormatException.class, () -> Onnx.readModel(write(dir, SmallOnnx.convExternal(entries))));
    }

    @Test
    void externalDataBesideTheModelIsRead(@TempDir Path dir) throws IOException {
        byte[] blob = new byte[100];
        System.arraycopy(SmallOnnx.WEIGHT, 0, blob, 40, 36);
        Files.createDirectory(dir.resolve("weights"));
        Files.write(dir.resolve("weights").resolve("w.bin"), blob);
        Path file = write(dir, SmallOnnx.convExternal(Map.of("location", "weights/w.bin", "offset", "40", "length", "36")));
        OnnxTensor w = Onnx.readModel(file).graph().initializers().get(0);
        assertArrayEquals(SmallOnnx.WEIGHT, w.data());
        try (Model m = OnnxImport.load(file)) {
            assertEquals(0.9f, m.parameters("y").get(0).get(8));
        }
        Files.write(dir.resolve("exact.bin"), SmallOnnx.WEIGHT);
        assertArrayEquals(SmallOnnx.WEIGHT, Onnx.readModel(write(dir, SmallOnnx.convExternal(Map.of("location",
                "exact.bin")))).graph().initializers().get(0).data(), "offset and length default to the whole file");
    }

    @Test
    void pathsThatLeaveTheModelsFolderAreRefused(@TempDir Path tmp) throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("model"));
        Files.write(tmp.resolve("secret.bin"), SmallOnnx.WEIGHT);
        OnnxFormatException up = refused(dir, Map.of("location", "../secret.bin"));
        assertTrue(up.getMessage().contains("'../secret.bin' leaves the model's folder"), up.getMessage());
        OnnxFormatException deeper = refused(dir, Map.of("location", "a/../../secret.bin"));
        assertTrue(deeper.getMessage().contains("leaves the model's folder"), deeper.getMessage());
        OnnxFormatException absolute = refused(dir, Map.of("location", tmp.resolve("secret.bin").toString()));
        assertTrue(absolute.getMessage().contains("is an absolute path"), absolute.getMessage());
        Files.createSymbolicLink(dir.resolve("link.bin"), tmp.resolve("secret.bin"));
        OnnxFormatException link = refused(dir, Map.of("location", "link.bin"));
        assertTrue(link.getMessage().contains("through a link"), link.getMessage());
        Files.createSymbolicLink(dir.resolve("linked"), tmp);
        OnnxFormatException linkedFolder = refused(dir, Map.of("location", "linked/secret.bin"));
        assertTrue(linkedFolder.getMessage().contains("through a link"), linkedFolder.getMessage());
        OnnxFormatException folder = refused(dir, Map.of("location", "."));
        assertTrue(folder.getMessage().contains("leaves the model's folder"), folder.getMessage());
        OnnxFormatException none = refused(dir, Map.of("offset", "0"));
        assertTrue(none.getMessage().contains("without a location"), none.getMessage());
    }

    @Test
    void sizesAreCheckedBeforeAnythingIsRead(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("w.bin"), new byte[64]);
        OnnxFormatException past = refused(dir, Map.of("location", "w.bin", "offset", "40", "length", "36"));
        assertTrue(past.getMessage().contains("length 36 at offset 40 runs past its end (64 bytes)"), past.getMessage());
        OnnxFormatException huge = refused(dir, Map.of("location", "w.bin", "offset", "1099511627776"));
        assertTrue(huge.getMessage().contains("offset 1099511627776 is past its end"), huge.getMessage());
        OnnxFormatException wrong = refused(dir, Map.of("location", "w.bin", "length", "32"));
        assertTrue(wrong.getMessage().contains("holds 32 bytes but the tensor declares 36"), wrong.getMessage());
        OnnxFormatException negative = refused(dir, Map.of("location", "w.bin", "offset", "-1"));
        assertTrue(negative.getMessage().contains("offset is negative"), negative.getMessage());
        OnnxFormatException text = refused(dir, Map.of("location", "w.bin", "length", "lots"));
        assertTrue(text.getMessage().contains("length is not a number: 'lots'"), text.getMessage());
        OnnxFormatException missing = refused(dir, Map.of("location", "nothing.bin"));
        assertTrue(missing.getMessage().contains("'nothing.bin' cannot be read"), missing.getMessage());
    }

    @Test
    void bytesWithoutAFolderRefuseExternalData() {
        OnnxFormatException e = assertThrows(OnnxFormatException.class,
                () -> Onnx.parseModel(SmallOnnx.convExternal(Map.of("location", "w.bin")), "in memory"));
        assertTrue(e.getMessage().contains("needs the model's folder"), e.getMessage());
    }
}
