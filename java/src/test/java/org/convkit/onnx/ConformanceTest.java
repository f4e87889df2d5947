package org.convkit.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.SharedData;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * ONNX's own backend tests (../shared/conformance/onnx/node) on every device, through
 * {@link ConformanceRunner} (rtol 1e-3, atol 1e-5): every test passes, except those listed with
 * their reason in {@code out-of-scope.txt}, which must be the ones the runner skips.
 */
@ExtendWith(HostLeakCheck.class)
class ConformanceTest {
    static Map<String, String> outOfScope() {
        Map<String, String> m = new LinkedHashMap<>();
        try (InputStream in = ConformanceTest.class.getResourceAsStream("out-of-scope.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    String[] parts = line.split("\t", 2);
                    m.put(parts[0].trim(), parts[1].trim());
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return m;
    }

    @Test
    void theOutOfScopeListIsShortAndNamesRealTests() {
        Map<String, String> list = outOfScope();
        List<Path> tests = ConformanceRunner.discover(SharedData.onnxNode());
        List<String> names = tests.stream().map(p -> p.getFileName().toString()).toList();
        assertTrue(list.size() <= 15 && list.size() * 8 < names.size(), list.size() + " of " + names.size() + " excluded");
        for (String t : list.keySet()) {
            assertTrue(names.contains(t), "out-of-scope.txt names " + t + ", which is not a test");
        }
    }

    @TestFactory
    Stream<DynamicTest> everyNodeTestPassesOnEveryDevice() {
        Path root = SharedData.onnxNode();
        Map<String, String> excluded = outOfScope();
        List<DynamicTest> out = new ArrayList<>();
        for (DeviceInfo info : TestDevices.all()) {
            out.add(DynamicTest.dynamicTest(info.name() + " onnx node tests", () -> {
                List<String> failures = new ArrayList<>();
                int passed = 0;
                try (Device d = Backends.system().open(info.name())) {
                    for (ConformanceRunner.Outcome o : new ConformanceRunner(d).run(List.of(root), x -> { })) {
                        boolean listed = excluded.containsKey(o.test());
                        if (listed && o.status() != ConformanceRunner.Status.SKIP) {
                            failures.add(o.test() + " is listed out of scope but " + o.status() + ": " + o.detail());
                        } else if (!listed && o.status() != ConformanceRunner.Status.PASS) {
                            failures.add(o.toString());
                        } else if (!listed) {
                            passed++;
                        }
                    }
                    assertEquals(0, d.allocator().liveBytes(), d.allocator()::tree);
                }
                if (!failures.isEmpty()) {
                    fail(info.name() + ": " + failures.size() + " conformance problem(s):\n" + String.join("\n", failures));
                }
                System.out.println("[convkit tests] " + info.name() + ": " + passed + " ONNX node tests passed, "
                        + excluded.size() + " out of scope");
            }));
        }
        return out.stream();
    }

    /** The six real architectures (model file + expected output) on every device. */
    @TestFactory
    Stream<DynamicTest> everyLightModelPassesOnEveryDevice() {
        Path root = SharedData.onnxLight();
        List<DynamicTest> out = new ArrayList<>();
        for (DeviceInfo info : TestDevices.all()) {
            out.add(DynamicTest.dynamicTest(info.name() + " onnx light models", () -> {
                try (Device d = Backends.system().open(info.name())) {
                    List<ConformanceRunner.Outcome> outcomes = new ConformanceRunner(d).run(List.of(root), x -> { });
                    assertEquals(6, outcomes.size(), outcomes.toString());
                    for (ConformanceRunner.Outcome o : outcomes) {
                        assertEquals(ConformanceRunner.Status.PASS, o.status(), o.toString());
                    }
                    assertEquals(0, d.allocator().liveBytes(), d.allocator()::tree);
                }
            }));
        }
        return out.stream();
    }
}
