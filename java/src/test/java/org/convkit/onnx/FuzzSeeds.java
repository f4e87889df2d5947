package org.convkit.onnx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.convkit.testing.Figures;
import org.convkit.testing.SharedData;
import org.junit.jupiter.params.provider.Arguments;

/**
 * Seeds and bookkeeping of the fuzz tests: the conformance files are the seed corpus (Jazzer
 * takes a fuzz test's {@code @MethodSource} arguments as seeds, and in regression mode runs them
 * as inputs), and each target counts its executions, which the tests record as the README's
 * figures.
 */
final class FuzzSeeds {
    private static final Map<String, AtomicLong> EXECUTIONS = new ConcurrentHashMap<>();
    private static final Map<String, Long> STARTED = new ConcurrentHashMap<>();

    private FuzzSeeds() {
    }

    /** Every conformance model ({@code .onnx}), as one byte[] argument each. */
    static Stream<Arguments> models() {
        return files(".onnx");
    }

    /** Every conformance tensor ({@code .pb}). */
    static Stream<Arguments> tensors() {
        return files(".pb");
    }

    private static Stream<Arguments> files(String suffix) {
        Path root = SharedData.dir().resolve("conformance").resolve("onnx");
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = s.filter(p -> p.toString().endsWith(suffix)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files.stream().map(p -> {
            try {
                return Arguments.of((Object) Files.readAllBytes(p));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** Counts one execution of {@code target}. */
    static void count(String target) {
        STARTED.computeIfAbsent(target, t -> System.nanoTime());
        EXECUTIONS.computeIfAbsent(target, t -> new AtomicLong()).incrementAndGet();
    }

    /** Records the executions of {@code target} and the time since its first one. */
    static void record(String target) {
        long n = EXECUTIONS.getOrDefault(target, new AtomicLong()).get();
        Long t0 = STARTED.get(target);
        double seconds = t0 == null ? 0 : (System.nanoTime() - t0) / 1e9;
        String mode = System.getenv("JAZZER_FUZZ") != null && !System.getenv("JAZZER_FUZZ").isEmpty()
                ? "coverage-guided fuzzing (Jazzer)" : "regression (seeds and saved inputs)";
        Figures.record("fuzz-" + target, String.format("%s: %,d executions in %.1f s, %s, no finding", target, n, seconds,
                mode));
    }
}
