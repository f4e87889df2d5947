package org.convkit.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.exec.ExecutionMode;
import org.convkit.graph.Model;
import org.convkit.graph.zoo.Zoo;

/**
 * {@code convkit soak}: a bounded long run (by default 100,000 LeNet-5 inferences) on one device
 * with device bytes, host bytes, open OpenCL objects, reported leaks and the resident set sampled;
 * exit 1 unless they are flat after the warm-up ({@link Soak}).
 */
final class SoakCommand {
    static final List<String> OPTIONS = List.of("device", "model", "runs", "minutes", "seconds", "mode", "samples");

    private SoakCommand() {
    }

    static int run(Options options, PrintStream out) {
        String deviceName = options.get("device", "cpu");
        String modelName = options.get("model", "lenet5");
        int samples = options.intValue("samples", 20, 4, 10_000);
        boolean timed = options.get("minutes", null) != null || options.get("seconds", null) != null;
        long runs = options.longValue("runs", timed ? Long.MAX_VALUE : 100_000);
        if (runs < samples) {
            throw new Options.UsageException("--runs must be at least --samples (" + samples + "), got " + runs);
        }
        double seconds = options.intValue("minutes", 0, 0, 7 * 24 * 60) * 60.0 + options.intValue("seconds", 0, 0, 1 << 30);
        if (!timed) {
            seconds = Double.MAX_VALUE;
        }
        ExecutionMode mode = switch (options.get("mode", "eager")) {
            case "eager" -> ExecutionMode.EAGER;
            case "planned" -> ExecutionMode.PLANNED;
            default -> throw new Options.UsageException("--mode must be eager or planned, got '" + options.get("mode", "")
                    + "'");
        };
        if (!Zoo.names().contains(modelName)) {
            throw new Options.UsageException("--model must be one of " + Zoo.names() + ", got '" + modelName + "'");
        }
        try (Model model = Model.withRandomParameters(Zoo.find(modelName).graph(1), 1);
                Device device = Backends.system().open(deviceName)) {
            out.printf(Locale.ROOT, "convkit soak: %s, batch 1, %s mode, on %s; %s%n%n", modelName,
                    mode.name().toLowerCase(Locale.ROOT), device.name(), runs == Long.MAX_VALUE
                            ? String.format(Locale.ROOT, "%.0f s", seconds) : String.format(Locale.ROOT, "%,d runs", runs));
            out.println(Soak.header());
            Soak.Result r = Soak.run(model, device, mode, runs, seconds, samples, out);
            Soak.Sample last = r.samples().get(r.samples().size() - 1);
            out.println();
            out.printf(Locale.ROOT, "%,d inferences in %.1f s; after the warm-up (%d samples): device %,d B, host %,d B, "
                    + "OpenCL objects %s, leaks %d, resident set %+.1f MiB%s%n", last.runs(), last.seconds(), r.warmup(),
                    last.deviceLive(), last.hostLive(), last.clObjects().isEmpty() ? "-" : last.clObjects(),
                    last.leaks() - r.samples().get(0).leaks(), r.rssDrift() / 1048576.0,
                    r.rssJudged() ? "" : " (not judged: the heap is not fixed, run with -Xms = -Xmx)");
            if (r.flat()) {
                out.println("flat: yes");
                return 0;
            }
            out.println("flat: no");
            r.problems().forEach(p -> out.println("  " + p));
            return 1;
        } catch (IllegalArgumentException e) {
            throw new Options.UsageException(e.getMessage());
        }
    }
}
