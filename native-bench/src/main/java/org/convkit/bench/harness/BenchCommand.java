package org.convkit.bench.harness;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.convkit.backend.Backends;
import org.convkit.memory.Json;

/**
 * {@code ./convkit bench}: measures the devices and writes the hardware report.
 *
 * <pre>
 * ./convkit bench [--suite default|peaks|binding|ops|models] [--device D,...] [--quick]
 *                 [--json FILE] [--compare FILE] [--report FILE|none]
 * ./convkit bench --suite peers [--device D,...] [--workload ID,...] [--quick] [--json FILE] [--compare FILE]
 *                 [--rounds N] [--warmup N] [--budget-ms MS] [--threads N]
 * </pre>
 *
 * The default suite is peaks + binding overhead + single ops + whole models on every device
 * found; results go to {@code --json} (default {@code hardware/results.json}) and the report to
 * {@code --report} (default {@code hardware.md}, charts beside it in {@code hardware/}).
 * {@code --compare} prints the ratio of every workload to an earlier JSON. The {@code peers} suite
 * ({@link PeersSuite}) compares convkit with ONNX Runtime and oneDNN on the benchmark workloads ({@link org.convkit.bench.Workloads}).
 */
public final class BenchCommand {
    static final String USAGE = """
            usage: ./convkit bench [--suite default|peaks|binding|ops|models] [--device D,...] [--quick]
                                   [--json FILE] [--compare FILE] [--report FILE|none]

              --suite    default: peaks, binding overhead, single ops and whole models; or one of them
              --device   devices to measure (default: every device found; cpu always runs, errors are against it)
              --quick    fewer repeats and models, no report unless --report is given (about a minute)
              --json     raw results (default hardware/results.json)
              --compare  an earlier results JSON: prints now / before for every workload and device
              --report   the report to write (default hardware.md for the full default suite; none to skip);
                         charts go to hardware/ beside it

           ./convkit bench --suite peers [--device D,...] [--workload ID,...] [--quick] [--json FILE] [--compare FILE]
                                         [--rounds N] [--warmup N] [--budget-ms MS] [--threads N]

              the benchmark workloads on convkit (cpu, opencl:0, cuda:0 when present), on ONNX Runtime and
              oneDNN (CPU libraries) and on im2col + CLBlast SGEMM (OpenCL device; same weights and input,
              NCHW in and out), side by side, with convkit cpu's speedup over each CPU library, opencl:0's
              over CLBlast, and every output's difference from convkit cpu's (about 5 minutes)
              --device     engines: cpu, opencl:N, cuda:N, onnxruntime, onednn, clblast (default: all of them;
                           cpu always runs)
              --workload   workload ids (default: all, W1_seed_b1_net ... W5b_lrn5_96_55)
              --quick      fewer and shorter rounds (--rounds 3, --budget-ms 300, at most 3 runs a round)
              --json       the records (default hardware/peers.json)
              --rounds     rounds in which the engines take turns (default 5)
              --warmup     untimed runs before them, the first included (default 2)
              --budget-ms  time each engine aims to spend on a workload's rounds (default 2000); a single run
                           longer than that is its only sample
              --threads    CPU threads of convkit cpu, ONNX Runtime and oneDNN (default 2)""";

    private BenchCommand() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
            out.println(USAGE);
            return 0;
        }
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                err.println("convkit bench: unexpected argument '" + a + "'");
                return 2;
            }
            String name = a.substring(2);
            if (name.equals("quick")) {
                o.put(name, "true");
            } else if (i + 1 < args.length) {
                o.put(name, args[++i]);
            } else {
                err.println("convkit bench: option --" + name + " needs a value");
                return 2;
            }
        }
        String suite = o.getOrDefault("suite", "default");
        if (suite.equals("peers")) {
            return PeersCommand.run(o, out, err);
        }
        for (String k : o.keySet()) {
            if (!List.of("suite", "device", "quick", "json", "compare", "report").contains(k)) {
                err.println("convkit bench: unknown option --" + k
                        + " (accepted: --suite, --device, --quick, --json, --compare, --report)");
                return 2;
            }
        }
        if (!List.of("default", "peaks", "binding", "ops", "models").contains(suite)) {
            err.println("convkit bench: --suite must be default, peaks, binding, ops, models or peers");
            return 2;
        }
        boolean quick = o.containsKey("quick");
        List<String> devices = new ArrayList<>();
        Backends backends = Backends.system();
        for (String d : o.getOrDefault("device", String.join(",", backends.names())).split(",")) {
            try {
                devices.add(backends.find(d.trim()).name());
            } catch (IllegalArgumentException | IllegalStateException e) {
                err.println("convkit bench: " + e.getMessage());
                return 2;
            }
        }
        if (!devices.contains("cpu")) {
            // Errors are measured against the CPU backend, so it always runs.
            devices.add(0, "cpu");
        }
        Path json = Path.of(o.getOrDefault("json", "hardware/results.json"));
        String reportArg = o.getOrDefault("report", suite.equals("default") && !quick ? "hardware.md" : "none");
        Path shared = Path.of("..", "shared");

        List<Suites.OpWorkload> ops = Suites.ops(Files.isDirectory(shared) ? shared : null);
        List<Suites.ModelWorkload> models = Suites.models(quick);
        int modelSteps = models.stream().mapToInt(m -> m.batches().length).sum() * devices.size();
        boolean doPeaks = suite.equals("default") || suite.equals("peaks");
        boolean doBinding = suite.equals("default") || suite.equals("binding");
        boolean doOps = suite.equals("default") || suite.equals("ops");
        boolean doModels = suite.equals("default") || suite.equals("models");
        List<String> clDevices = devices.stream().filter(d -> d.startsWith("opencl:")).toList();
        int steps = (doPeaks ? devices.size() : 0) + (doBinding ? clDevices.size() * Binding.CASES.size() : 0)
                + (doOps ? ops.size() : 0) + (doModels ? modelSteps : 0);
        Progress progress = new Progress(err, steps);
        Harness h = new Harness(devices, progress::step);

        long t0 = System.nanoTime();
        List<Peaks> peaks = doPeaks || doOps || doModels ? h.measurePeaks(quick ? 3 : 5) : List.of();
        List<BindingOverhead.Result> binding = doBinding && !clDevices.isEmpty()
                ? Binding.run(clDevices, quick ? 2 : 5, quick ? 10 : 30, progress::step) : List.of();
        List<Result> opResults = doOps ? h.ops(ops, quick ? 2 : 5, quick ? 3 : 6) : List.of();
        List<Result> modelResults = doModels ? h.models(models, quick ? 3 : 20) : List.of();
        progress.done();
        double minutes = (System.nanoTime() - t0) / 6e10;

        List<Result> all = new ArrayList<>(opResults);
        all.addAll(modelResults);
        writeJson(json, peaks, binding, all);
        out.printf(Locale.ROOT, "convkit bench: %d results in %.1f min, raw results in %s%n", all.size() + peaks.size()
                + binding.size(), minutes, json);
        Summary.print(out, peaks, binding, all);
        if (o.containsKey("compare")) {
            compare(out, Path.of(o.get("compare")), all);
        }
        if (!reportArg.equals("none")) {
            Path report = Path.of(reportArg);
            Report.write(report, report.toAbsolutePath().getParent().resolve("hardware"), devices, peaks, binding, all,
                    "./convkit bench" + (args.length == 0 ? "" : " " + String.join(" ", args)), LocalDate.now(), minutes);
            out.println("report written to " + report);
        }
        return 0;
    }

    /** Raw results: peaks, binding overhead and every op and model record. */
    static void writeJson(Path file, List<Peaks> peaks, List<BindingOverhead.Result> binding, List<Result> results) {
        Json j = new Json().beginObject();
        j.beginArray("peaks");
        for (Peaks p : peaks) {
            j.beginObject().field("device", p.device()).field("fmaGflops", p.fmaGflops().median())
                    .field("copyGBs", p.copyGBs().median()).field("toDeviceGBs", p.toDeviceGBs().median())
                    .field("toHostGBs", p.toHostGBs().median()).field("launchMicros", p.launchMicros().median())
                    .field("method", p.method()).endObject();
        }
        j.endArray().beginArray("binding");
        for (BindingOverhead.Result b : binding) {
            j.beginObject().field("workload", b.workload()).field("launches", b.launches())
                    .field("javaMedianMs", b.java().median()).field("cMedianMs", b.c().median())
                    .field("ratio", b.ratio()).field("overheadMicrosPerLaunch", b.overheadMicrosPerLaunch()).endObject();
        }
        j.endArray().beginArray("results");
        for (Result r : results) {
            j.beginObject().field("suite", r.suite()).field("workload", r.workload()).field("device", r.device())
                    .field("median_ms", r.ms().median()).field("min_ms", r.ms().min()).field("max_ms", r.ms().max())
                    .field("gflops", r.gflops()).field("gbs", r.gbs()).field("percentOfPeak", r.percentOfPeak())
                    .field("intensity", r.intensity()).field("maxError", r.maxError()).field("detail", r.detail())
                    .endObject();
        }
        j.endArray().endObject();
        try {
            if (file.toAbsolutePath().getParent() != null) {
                Files.createDirectories(file.toAbsolutePath().getParent());
            }
            Files.writeString(file, j.toString() + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final Pattern RECORD = Pattern.compile(
            "\"workload\": \"([^\"]*)\",\\s*\"device\": \"([^\"]*)\",\\s*\"median_ms\": ([0-9.eE+-]+)");

    /** Prints this run's median over an earlier run's, for every workload and device in both. */
    static void compare(PrintStream out, Path previous, List<Result> now) {
        Map<String, Double> before = new LinkedHashMap<>();
        try {
            Matcher m = RECORD.matcher(Files.readString(previous));
            while (m.find()) {
                before.put(m.group(1) + " @ " + m.group(2), Double.parseDouble(m.group(3)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.println();
        out.println("compared with " + previous + " (now / before; below 1 is faster):");
        for (Result r : now) {
            Double b = before.get(r.workload() + " @ " + r.device());
            if (b != null) {
                out.printf(Locale.ROOT, "  %-34s %-10s %9.3f ms  %9.3f ms  %6.2fx%n", r.workload(), r.device(),
                        r.ms().median(), b, r.ms().median() / b);
            }
        }
    }

    /** A one-line progress bar on stderr. */
    static final class Progress {
        private final PrintStream err;
        private final int total;
        private int done;

        Progress(PrintStream err, int total) {
            this.err = err;
            this.total = Math.max(1, total);
        }

        void step(String what) {
            done = Math.min(total, done + 1);
            int width = 30;
            int filled = done * width / total;
            err.printf(Locale.ROOT, "\r[%s%s] %3d/%d %-50.50s", "=".repeat(filled), " ".repeat(width - filled), done, total,
                    what);
            err.flush();
        }

        void done() {
            err.println();
        }
    }
}
