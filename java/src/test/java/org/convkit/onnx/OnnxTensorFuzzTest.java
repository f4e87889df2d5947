package org.convkit.onnx;

import com.code_intelligence.jazzer.junit.FuzzTest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Coverage-guided fuzzing (Jazzer) of the ONNX tensor ({@code .pb}) reader: any bytes read as a
 * TensorProto must succeed or fail with a convkit exception that has a message
 * ({@link OnnxFuzzTargets}). Seeded with the conformance test data ({@link FuzzSeeds}). Run as
 * {@link OnnxModelFuzzTest} is.
 */
class OnnxTensorFuzzTest {
    @MethodSource("org.convkit.onnx.FuzzSeeds#tensors")
    @FuzzTest(maxDuration = "30s")
    void tensors(byte[] data) {
        FuzzSeeds.count("tensors");
        OnnxFuzzTargets.tensor(data);
    }

    @AfterAll
    static void figures() {
        FuzzSeeds.record("tensors");
    }
}
