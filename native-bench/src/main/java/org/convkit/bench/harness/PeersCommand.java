package org.convkit.bench.harness;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.convkit.bench.PeakFma;
import org.convkit.bench.Workloads;
import org.convkit.bench.peers.Peer;

/** {@code ./convkit bench --suite peers}: options, the run, the table, the JSON (see {@link BenchCommand#USAGE}). */
final class PeersCommand {
    private static final List<String> OPTIONS = List.of("suite", "device", "workload", "quick", "json", "compare", "rounds",
            "warmup", "budget-ms", "threads");

    private PeersCommand() {
    }

    static int run(Map<String, String> o, PrintStream out, PrintStream err) {
        for (String k : o.keySet()) {
            if (!OPTIONS.contains(k)) {
                err.println("convkit bench: unknown option --" + k + " for --suite peers (accepted: --"
                        + String.join(", --", OPTIONS) + ")");
                return 2;
            }
        }
        List<String> devices = new ArrayList<>();
        if (o.containsKey("device")) {
            for (String d : o.get("device").split(",")) {
                String name = d.trim().toLowerCase(Locale.ROOT);
                if (!name.matches("cpu|(opencl|cuda):[0-9]+|" + Peer.ONNXRUNTIME + "|" + Peer.ONEDNN + "|" + Peer.CLBLAST)) {
                    err.println("convkit bench: --device '" + d + "' is none of cpu, opencl:N, cuda:N, "
                            + Peer.ONNXRUNTIME + ", " + Peer.ONEDNN + ", " + Peer.CLBLAST);
                    return 2;
                }
                if (!devices.contains(name)) {
                    devices.add(name);
                }
            }
            if (!devices.contains("cpu")) {
                // Errors and speedups are against convkit's CPU backend, so it always runs.
                devices.add(0, "cpu");
            }
        } else {
            devices.addAll(Peer.defaults());
        }
        boolean quick = o.containsKey("quick");
        PeersSuite.Options opts = quick ? PeersSuite.Options.quick(devices) : PeersSuite.Options.defaults(devices);
        List<String> workloads = opts.workloads();
        if (o.containsKey("workload")) {
            workloads = new ArrayList<>();
            for (String id : o.get("workload").split(",")) {
                if (!Workloads.ids().contains(id.trim())) {
                    err.println("convkit bench: no workload '" + id.trim() + "'; known: " + String.join(", ", Workloads.ids()));
                    return 2;
                }
                workloads.add(id.trim());
            }
        }
        try {
            opts = new PeersSuite.Options(devices, workloads, positive(o, "threads", opts.threads()),
                    positive(o, "rounds", opts.rounds()), positive(o, "warmup", opts.warmup()), opts.maxPerRound(),
                    positive(o, "budget-ms", (int) opts.budgetMs()), opts.longMs());
        } catch (IllegalArgumentException e) {
            err.println("convkit bench: " + e.getMessage());
            return 2;
        }
        Path json = Path.of(o.getOrDefault("json", "hardware/peers.json"));

        long t0 = System.nanoTime();
        int total = workloads.size();
        int[] index = {0};
        PeersSuite suite = new PeersSuite(opts, msg -> {
            if (Workloads.ids().contains(msg)) {
                index[0]++;
            }
            err.printf(Locale.ROOT, "\r[%d/%d] %-70.70s", index[0], total, msg);
            err.flush();
        });
        // The FMA peak, probed before and after, for the convolutions' share of it in this run.
        err.print("\rprobing the FMA peak");
        double[] before = PeakFma.measure(opts.threads(), 5);
        List<PeersSuite.Record> records = suite.run();
        err.print("\rprobing the FMA peak" + " ".repeat(60));
        double[] after = PeakFma.measure(opts.threads(), 5);
        double[] probes = new double[before.length + after.length];
        System.arraycopy(before, 0, probes, 0, before.length);
        System.arraycopy(after, 0, probes, before.length, after.length);
        err.println();
        double minutes = (System.nanoTime() - t0) / 6e10;
        PeersSuite.writeJson(json, records);
        // The tables go to the terminal and beside the JSON (peers.txt), where hardware.md's report picks them up.
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        PrintStream both = new PrintStream(text, true, StandardCharsets.UTF_8);
        both.printf(Locale.ROOT, "convkit bench --suite peers: %d workloads x %d engines in %.1f min on %s, %d threads each;"
                + " records in %s%n", total, devices.size(), minutes, LocalDate.now(), opts.threads(), json);
        PeersSuite.print(both, devices, records);
        both.println();
        PeersSuite.printPeakShare(both, records, probes);
        out.print(text.toString(StandardCharsets.UTF_8));
        try {
            Files.writeString(PeersSuite.textBeside(json), text.toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (o.containsKey("compare")) {
            List<Result> now = new ArrayList<>();
            for (PeersSuite.Record r : records) {
                if (r.measured()) {
                    now.add(new Result("peers", r.workload(), r.device(), r.stats(), r.gflops(), r.gbs(), Double.NaN,
                            Double.NaN, r.maxAbsErr(), r.detail()));
                }
            }
            BenchCommand.compare(out, Path.of(o.get("compare")), now);
        }
        return 0;
    }

    private static int positive(Map<String, String> o, String key, int fallback) {
        if (!o.containsKey(key)) {
            return fallback;
        }
        try {
            int v = Integer.parseInt(o.get(key));
            if (v >= 1) {
                return v;
            }
        } catch (NumberFormatException e) {
            // Reported below with the value.
        }
        throw new IllegalArgumentException("--" + key + " must be a positive integer, got '" + o.get(key) + "'");
    }
}
