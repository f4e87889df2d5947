package org.convkit.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.convkit.testing.Figures;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Mutated copies of every conformance file (models and {@code .pb} tensors): bit flips, bytes set
 * to boundary values, truncations, insertions, duplicated and removed spans, and varints
 * replaced by huge ones, read (and models imported) through {@link OnnxFuzzTargets}: each either
 * reads or fails with a convkit exception that has a message. Reproducible: one seed, a fixed
 * number of mutants per file ({@code -Dconvkit.mutants=N} changes it).
 */
@ExtendWith(HostLeakCheck.class)
class OnnxMutationTest {
    private static final int MUTANTS = Integer.getInteger("convkit.mutants", 60);

    private static List<Path> files() throws IOException {
        Path root = SharedData.dir().resolve("conformance").resolve("onnx");
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.toString().endsWith(".onnx") || p.toString().endsWith(".pb")).sorted().toList();
        }
    }

    @Test
    @Timeout(600)
    void mutatedConformanceFilesReadOrFailWithAConvkitException() throws IOException {
        SplittableRandom r = new SplittableRandom(2026);
        long executions = 0;
        List<Path> files = files();
        long t0 = System.nanoTime();
        for (Path f : files) {
            byte[] original = Files.readAllBytes(f);
            boolean model = f.toString().endsWith(".onnx");
            for (int k = 0; k < MUTANTS; k++) {
                byte[] m = mutate(original, r);
                try {
                    if (model) {
                        OnnxFuzzTargets.importModel(m);
                    } else {
                        OnnxFuzzTargets.tensor(m);
                    }
                } catch (RuntimeException | Error e) {
                    throw new AssertionError(f + " mutant " + k + " (seed 2026): " + e, e);
                }
                executions++;
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(executions > 0);
        Figures.record("mutation", String.format("%,d mutants of %d conformance files (%d each), %.1f s, no crash",
                executions, files.size(), MUTANTS, seconds));
    }

    /** One to four mutations of a copy of {@code b}. */
    static byte[] mutate(byte[] b, SplittableRandom r) {
        byte[] m = b.clone();
        for (int n = 1 + r.nextInt(4); n > 0; n--) {
            m = mutateOnce(m, r);
        }
        return m;
    }

    private static final byte[] BOUNDARY = {0, 1, 0x7F, (byte) 0x80, (byte) 0xFF, 0x08, 0x0A, 0x12, 0x1A, 0x22};

    private static byte[] mutateOnce(byte[] m, SplittableRandom r) {
        if (m.length == 0) {
            return new byte[] {(byte) r.nextInt(256)};
        }
        int at = r.nextInt(m.length);
        switch (r.nextInt(7)) {
            case 0 -> m[at] ^= (byte) (1 << r.nextInt(8));
            case 1 -> m[at] = BOUNDARY[r.nextInt(BOUNDARY.length)];
            case 2 -> m = java.util.Arrays.copyOf(m, at);
            case 3 -> {
                byte[] ins = new byte[1 + r.nextInt(8)];
                r.nextBytes(ins);
                m = splice(m, at, 0, ins);
            }
            case 4 -> {
                int len = 1 + r.nextInt(Math.min(64, m.length - at));
                byte[] copy = java.util.Arrays.copyOfRange(m, at, at + len);
                m = splice(m, r.nextInt(m.length), 0, copy);
            }
            case 5 -> m = splice(m, at, 1 + r.nextInt(Math.min(16, m.length - at)), new byte[0]);
            default -> {
                // A huge varint where a length or a dimension was: the reader must not trust it.
                byte[] huge = new byte[2 + r.nextInt(9)];
                java.util.Arrays.fill(huge, (byte) 0xFF);
                huge[huge.length - 1] = (byte) (1 + r.nextInt(0x7F));
                m = splice(m, at, 1, huge);
            }
        }
        return m;
    }

    private static byte[] splice(byte[] m, int at, int remove, byte[] insert) {
        byte[] out = new byte[m.length - remove + insert.length];
        System.arraycopy(m, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(m, at + remove, out, at + insert.length, m.length - at - remove);
        return out;
    }
}
