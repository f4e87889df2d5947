package org.convkit.onnx;

import org.convkit.ConvkitException;
import org.convkit.graph.Model;

/**
 * The fuzz targets of the ONNX reader and importer, shared by the coverage-guided fuzz tests
 * ({@code OnnxFuzzTest}, Jazzer) and the mutation test of the conformance files
 * ({@code OnnxMutationTest}). The contract they check: any bytes either read (and import) or fail
 * with a convkit exception that has a message. Anything else escapes and is a finding: another
 * exception, an error (OutOfMemoryError, StackOverflowError), a hang.
 */
final class OnnxFuzzTargets {
    /**
     * Parameters an imported fuzz input may materialize: declared sizes are checked against this
     * before anything is allocated, which keeps a fuzzing run's memory small.
     */
    static final long MAX_PARAMETER_BYTES = 16L << 20;

    private OnnxFuzzTargets() {
    }

    /** Reads bytes as a TensorProto and, when it reads, converts its values. */
    static void tensor(byte[] data) {
        try {
            OnnxTensor t = Onnx.parseTensor(data, "fuzzed tensor");
            if (OnnxTensor.elementSize(t.dataType()) > 0) {
                t.floats();
            }
        } catch (ConvkitException e) {
            requireMessage(e);
        }
    }

    /** Reads bytes as a ModelProto. */
    static OnnxModel model(byte[] data) {
        try {
            return Onnx.parseModel(data, "fuzzed model");
        } catch (ConvkitException e) {
            requireMessage(e);
            return null;
        }
    }

    /** Reads bytes as a ModelProto and, when it reads, imports it as a convkit model. */
    static void importModel(byte[] data) {
        OnnxModel m = model(data);
        if (m == null) {
            return;
        }
        try (Model model = OnnxImport.load(m, null, "fuzzed", MAX_PARAMETER_BYTES)) {
            model.graph().layers();
        } catch (ConvkitException e) {
            requireMessage(e);
        }
    }

    /**
     * A convkit exception must say something, and must not be the safety net around a reader or
     * importer bug (an exception of another kind kept as its cause).
     */
    private static void requireMessage(ConvkitException e) {
        if (e.getMessage() == null || e.getMessage().isBlank()) {
            throw new AssertionError("a convkit exception without a message", e);
        }
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            if (c instanceof RuntimeException && !(c instanceof ConvkitException)) {
                throw new AssertionError("an internal error behind " + e.getClass().getSimpleName() + ": " + c, c);
            }
        }
    }
}
