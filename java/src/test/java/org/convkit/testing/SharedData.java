package org.convkit.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assumptions;

/**
 * The read-only data beside the project ({@code ../shared}): conformance files and specs. Tests
 * that need it skip with a message where it is absent (a user's clone), and fail where it is
 * absent in CI ({@code CI=true}).
 */
public final class SharedData {
    private SharedData() {
    }

    /** The shared folder; skips or fails (see class comment) when it is missing. */
    public static Path dir() {
        String prop = System.getProperty("convkit.shared.dir");
        Path p = prop != null ? Path.of(prop) : Path.of("..", "..", "shared");
        if (!Files.isDirectory(p.resolve("conformance"))) {
            String why = "../shared (conformance data) not found at " + p.toAbsolutePath().normalize();
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("CI=true but " + why);
            }
            Assumptions.abort(why + "; tests that read it are skipped");
        }
        return p;
    }

    /** {@code ../shared/conformance/onnx/node}. */
    public static Path onnxNode() {
        return dir().resolve("conformance").resolve("onnx").resolve("node");
    }

    /** {@code ../shared/conformance/onnx/light}. */
    public static Path onnxLight() {
        return dir().resolve("conformance").resolve("onnx").resolve("light");
    }
}
