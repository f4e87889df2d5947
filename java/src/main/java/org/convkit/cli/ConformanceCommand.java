package org.convkit.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.onnx.ConformanceRunner;
import org.convkit.onnx.ConformanceRunner.Outcome;

/**
 * {@code convkit conformance [--device D] DIR...}: runs every ONNX backend test (a folder with
 * {@code model.onnx} and {@code test_data_set_N/}) under the folders on one device, one line per
 * test, then {@code N passed, M failed} with the skipped ones and their reasons. Exit 1 if any
 * test failed.
 */
final class ConformanceCommand {
    static final List<String> OPTIONS = List.of("device");

    private ConformanceCommand() {
    }

    static int run(Options options, PrintStream out) {
        if (options.positional().isEmpty()) {
            throw new Options.UsageException("give one or more folders of ONNX tests, e.g. ../shared/conformance/onnx/node");
        }
        List<Path> roots = new ArrayList<>();
        for (String p : options.positional()) {
            Path path = Path.of(p);
            if (!Files.isDirectory(path)) {
                throw new Options.UsageException("'" + p + "' is not a folder");
            }
            roots.add(path);
        }
        String selector = options.get("device", "best");
        Backends backends = Backends.system();
        String deviceName;
        try {
            deviceName = backends.find(selector).name();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new Options.UsageException(e.getMessage());
        }
        List<Outcome> outcomes;
        try (Device device = backends.open(deviceName)) {
            out.println("convkit conformance on " + device.info().describe());
            outcomes = new ConformanceRunner(device).run(roots, out::println);
        }
        int pass = 0;
        int fail = 0;
        Map<String, Integer> skipReasons = new LinkedHashMap<>();
        for (Outcome o : outcomes) {
            switch (o.status()) {
                case PASS -> pass++;
                case FAIL -> fail++;
                case SKIP -> skipReasons.merge(reasonKind(o.detail()), 1, Integer::sum);
            }
        }
        int skip = outcomes.size() - pass - fail;
        StringBuilder last = new StringBuilder().append(pass).append(" passed, ").append(fail).append(" failed");
        if (skip > 0) {
            last.append(", ").append(skip).append(" skipped (");
            List<String> parts = new ArrayList<>();
            skipReasons.forEach((reason, n) -> parts.add(n + ": " + reason));
            last.append(String.join("; ", parts)).append(')');
        }
        out.println(last);
        return fail > 0 ? 1 : 0;
    }

    /** A skip reason without the node's label, so that equal reasons group: "operator Foo is not supported". */
    private static String reasonKind(String detail) {
        int colon = detail.indexOf(": ");
        return colon >= 0 ? detail.substring(colon + 2) : detail;
    }
}
