package org.convkit.onnx;

import com.code_intelligence.jazzer.junit.FuzzTest;

import org.convkit.testing.HostLeakCheck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Coverage-guided fuzzing (Jazzer) of the ONNX model reader and importer: any bytes read as a
 * ModelProto and, when they read, imported, must succeed or fail with a convkit exception that has
 * a message ({@link OnnxFuzzTargets}). Seeded with the conformance models ({@link FuzzSeeds}).
 *
 * <p>{@code mvn verify} runs it in Jazzer's regression mode (the inputs under
 * {@code src/test/resources/.../OnnxModelFuzzTestInputs/}); the {@code fuzz} Surefire execution
 * and {@code ./convkit fuzz} set {@code JAZZER_FUZZ=1}, which fuzzes for
 * {@code -Djazzer.max_duration} (see the README's Reliability section).
 */
@ExtendWith(HostLeakCheck.class)
class OnnxModelFuzzTest {
    @MethodSource("org.convkit.onnx.FuzzSeeds#models")
    @FuzzTest(maxDuration = "30s")
    void models(byte[] data) {
        FuzzSeeds.count("models");
        OnnxFuzzTargets.importModel(data);
    }

    @AfterAll
    static void figures() {
        FuzzSeeds.record("models");
    }
}
