package org.convkit.bench.harness;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import org.convkit.bench.Workloads;
import org.convkit.bench.Workloads.Workload;
import org.convkit.bench.peers.Peer;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.memory.Json;
import org.convkit.tensor.DType;
import org.convkit.tensor.Tensor;

/**
 * The {@code peers} suite: the benchmark workloads ({@link Workloads}) on convkit's devices and on
 * established CPU libraries (ONNX Runtime, oneDNN), and im2col + CLBlast's SGEMM on the OpenCL
 * device, same weights, same input, NCHW in and out, in one run, with convkit's CPU time compared
 * to each CPU peer's and convkit's OpenCL time ({@code opencl:0}) to CLBlast's.
 *
 * <p><b>How a workload is measured.</b> Every engine is prepared first (kernels built, weights
 * uploaded or reordered, sessions created: none of it timed). Each runs once; that output is
 * compared with convkit's CPU output (max absolute difference, with the largest |y| for scale).
 * A first run of {@link Options#longMs} or more is the engine's only sample (a multi-second run
 * has nothing left to warm up); otherwise at least {@code warmup - 1} more warm-up runs, and more
 * until half the budget (at least 0.5 s) has gone into warming up, the last of which
 * sets the plan: up to {@code rounds} rounds of up to {@link Options#maxPerRound} timed runs,
 * as many as fit the budget. In each round the engines take turns (in an order rotated from
 * round to round), so that a slow spell of the shared machine hits them all; a turn starts with
 * {@link #LEAD_IN_MS} of untimed lead-in runs where the budget has room for them (threads that
 * slept while the other engines ran, convkit's pool, OpenMP's or ONNX Runtime's, take up to a
 * scheduler slice to be back on a core on a loaded machine, and idle cores take milliseconds
 * to be back at speed, which would otherwise be timed as the engine's); the speedups' spread comes from the per-round medians of
 * convkit's CPU and the peer paired round by round (every pairing when the round counts
 * differ).
 */
public final class PeersSuite {
    /** Seed of the weights and the input of every workload. */
    static final long SEED = 5;

    /**
     * What to run and how long.
     *
     * @param devices engines, in table order: convkit devices ({@code cpu}, {@code opencl:N},
     *     {@code cuda:N}), {@code onnxruntime}, {@code onednn}, {@code clblast}; {@code cpu} is always among them
     * @param workloads workload ids
     * @param threads CPU threads of every CPU engine (convkit cpu, ONNX Runtime intra-op, oneDNN's OpenMP)
     * @param rounds rounds of timed runs at most
     * @param warmup untimed runs at most, the first included
     * @param maxPerRound timed runs per round at most
     * @param budgetMs time per engine and workload the rounds aim at
     * @param longMs a first run at least this long is the engine's only sample
     */
    public record Options(List<String> devices, List<String> workloads, int threads, int rounds, int warmup, int maxPerRound,
            double budgetMs, double longMs) {
        public Options {
            devices = List.copyOf(devices);
            workloads = List.copyOf(workloads);
            if (threads < 1 || rounds < 1 || warmup < 1 || maxPerRound < 1 || !(budgetMs > 0) || !(longMs > 0)) {
                throw new IllegalArgumentException("peers: threads, rounds, warmup, maxPerRound, budgetMs and longMs must "
                        + "be positive, got " + threads + ", " + rounds + ", " + warmup + ", " + maxPerRound + ", "
                        + budgetMs + ", " + longMs);
            }
        }

        /**
         * A full run: every workload, 2 threads, 5 rounds, 2 warm-up runs, up to 10 timed runs a
         * round, 2 s per engine and workload, a first run of 5 s or more the only sample.
         */
        public static Options defaults(List<String> devices) {
            return new Options(devices, Workloads.ids(), 2, 5, 2, 10, 2000, 5000);
        }

        /**
         * A short run: the workloads at batch 1 (the batch-50 ones take minutes on convkit now),
         * 3 rounds, up to 3 timed runs a round, 0.3 s per engine and workload, a first run of 1 s
         * or more the only sample.
         */
        public static Options quick(List<String> devices) {
            return new Options(devices, Workloads.ids().stream().filter(id -> !id.startsWith("W2_")).toList(), 2, 3, 2, 3,
                    300, 1000);
        }
    }

    /**
     * One workload on one engine.
     *
     * @param workload the workload's id
     * @param device the engine
     * @param ms every timed run (empty when unavailable)
     * @param roundMedians the median of each round (the only sample for a run longer than the budget)
     * @param gflops GFLOP/s at the median
     * @param gbs GB/s of compulsory traffic at the median
     * @param maxAbsErr max |y - y_cpu| against convkit's CPU output (0 on the CPU itself; NaN if unavailable or NaN output)
     * @param maxAbsRef max |y_cpu|, the scale of the error
     * @param detail what ran (version, implementation, threads)
     * @param unavailable why the engine did not run this workload, or null
     */
    public record Record(String workload, String device, List<Double> ms, List<Double> roundMedians, double gflops, double gbs,
            double maxAbsErr, double maxAbsRef, String detail, String unavailable) {
        public boolean measured() {
            return unavailable == null;
        }

        public Stats stats() {
            return Stats.of(ms);
        }
    }

    /**
     * A speedup of a convkit device over a peer (convkit's CPU over a CPU library, convkit's
     * OpenCL device over CLBlast): the peer's median over convkit's, and the smallest and largest
     * of the round-paired ratios.
     */
    public record Speedup(double median, double min, double max) {
    }

    private final Options options;
    private final Consumer<String> progress;

    public PeersSuite(Options options, Consumer<String> progress) {
        if (!options.devices().contains("cpu")) {
            throw new IllegalArgumentException("peers: convkit's cpu device must be among the devices (errors and "
                    + "speedups are against it), got " + options.devices());
        }
        this.options = options;
        this.progress = progress;
    }

    /** Runs every workload of the options on every engine; records in workload, then device order. */
    public List<Record> run() {
        Map<String, String> down = new LinkedHashMap<>();
        for (String d : options.devices()) {
            String why = Peer.unavailable(d);
            if (why != null) {
                down.put(d, why);
            }
        }
        List<Record> out = new ArrayList<>();
        for (String id : options.workloads()) {
            progress.accept(id);
            out.addAll(measure(Workloads.find(id), down));
        }
        return out;
    }

    private List<Record> measure(Workload w, Map<String, String> down) {
        Allocator host = Allocator.root("peers " + w.id());
        Map<String, Peer> peers = new LinkedHashMap<>();
        Map<String, String> refused = new LinkedHashMap<>(down);
        Map<String, List<Double>> samples = new LinkedHashMap<>();
        Map<String, List<Double>> rounds = new LinkedHashMap<>();
        Map<String, float[]> outputs = new LinkedHashMap<>();
        try (Model model = Model.withRandomParameters(w.graph(), SEED);
                Tensor x = Tensor.allocate(w.graph().inputShape(), DType.F32, host, "peers input").fillUniform(SEED, -1f, 1f)) {
            try {
                for (String d : options.devices()) {
                    if (!refused.containsKey(d)) {
                        progress.accept(w.id() + " preparing " + d);
                        try {
                            peers.put(d, Peer.open(d, w, model, x, options.threads()));
                        } catch (Peer.Unavailable e) {
                            refused.put(d, e.getMessage());
                        }
                    }
                }
                Map<String, int[]> plan = new LinkedHashMap<>();
                for (String d : List.copyOf(peers.keySet())) {
                    progress.accept(w.id() + " warm-up " + d);
                    try {
                        plan.put(d, warmUp(peers.get(d), samples, rounds, outputs));
                    } catch (RuntimeException e) {
                        // An engine that fails on one workload is reported as such; the others go on.
                        peers.remove(d).close();
                        refused.put(d, "failed: " + e.getMessage());
                    }
                }
                int maxRounds = plan.values().stream().mapToInt(p -> p[0]).max().orElse(0);
                List<String> order = new ArrayList<>(plan.keySet());
                for (int r = 0; r < maxRounds; r++) {
                    progress.accept(w.id() + " round " + (r + 1) + "/" + maxRounds);
                    for (String d : order) {
                        int[] p = plan.get(d);
                        if (r < p[0]) {
                            settle();
                            if (p[2] == 1) {
                                leadIn(peers.get(d));
                            }
                            List<Double> round = new ArrayList<>();
                            for (double m : peers.get(d).time(p[1])) {
                                round.add(m);
                            }
                            samples.get(d).addAll(round);
                            rounds.get(d).add(Stats.of(round).median());
                        }
                    }
                    // Each engine follows another one in the next round: none always runs right
                    // after the same neighbour (whose threads may still be winding down).
                    Collections.rotate(order, 1);
                }
            } finally {
                peers.values().forEach(Peer::close);
            }
            return records(w, peers, refused, samples, rounds, outputs);
        } finally {
            host.close();
        }
    }

    /**
     * Warms a peer up and plans its rounds: returns {rounds, timed runs per round, 1 when each
     * turn starts with an untimed lead-in run}; for a first run of {@link Options#longMs} or
     * more, {0, 0, 0} and that run recorded as the only sample (a run that long has compiled and
     * warmed up inside itself). Otherwise the plan comes from the last warm-up run, not the first:
     * convkit's first run of a kernel is partly interpreted Java, and oneDNN's first touches its
     * buffers.
     */
    /**
     * A pause before each turn: ONNX Runtime's pool threads (and OpenMP's) spin for a while after
     * a run before they sleep, and the engine whose turn comes next should not share the two
     * cores with them. (It did not explain convkit's slower runs between other engines' turns:
     * those were its own parked threads waking up, see the CPU device's SpinPool.)
     */
    private static void settle() {
        try {
            Thread.sleep(SETTLE_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final long SETTLE_MS = 50;

    /**
     * How long an engine runs untimed at the start of each turn (one run at least). Threads that
     * slept while the others ran must be awake and on a core again, and the cores themselves
     * must be back at speed: on this virtual machine a run right after the 50 ms pause took
     * about 1.7x its steady time, and the runs of the next few milliseconds 1.3-1.6x (convkit's
     * W3c: 0.55, then 0.39-0.54 ms against 0.29 ms), whatever the engine; after 20 ms of runs
     * they were steady.
     */
    static final double LEAD_IN_MS = 20;

    private static void leadIn(Peer p) {
        long end = System.nanoTime() + (long) (LEAD_IN_MS * 1e6);
        do {
            p.run();
        } while (System.nanoTime() < end);
    }

    /** Warm-up runs at most, however short the runs. */
    private static final int MAX_WARMUP_RUNS = 2000;

    private int[] warmUp(Peer p, Map<String, List<Double>> samples, Map<String, List<Double>> rounds,
            Map<String, float[]> outputs) {
        List<Double> own = new ArrayList<>();
        List<Double> ownRounds = new ArrayList<>();
        samples.put(p.device(), own);
        rounds.put(p.device(), ownRounds);
        double estimate = p.time(1)[0];
        outputs.put(p.device(), p.output());
        if (estimate >= options.longMs()) {
            own.add(estimate);
            ownRounds.add(estimate);
            return new int[] {0, 0, 0};
        }
        // Warm-up by count and by time: a JVM engine's vector kernels reach their compiled form only
        // after a few thousand calls of their inner methods (tens of runs of a small layer); a fixed
        // two runs timed convkit's cpu kernels half interpreted, at 2-4x their steady time.
        double warmMs = Math.max(500, options.budgetMs() / 2);
        double spent = estimate;
        for (int i = 1; (i < options.warmup() || spent < warmMs) && i < MAX_WARMUP_RUNS; i++) {
            estimate = p.time(1)[0];
            spent += estimate;
        }
        double budget = options.budgetMs();
        int r = (int) Math.max(1, Math.min(options.rounds(), Math.floor(budget / estimate)));
        int k = (int) Math.max(1, Math.min(options.maxPerRound(), Math.floor(budget / (r * estimate))));
        // A lead-in per turn where the budget has room for it.
        int leadIn = r * (k * estimate + Math.max(estimate, LEAD_IN_MS)) <= budget ? 1 : 0;
        return new int[] {r, k, leadIn};
    }

    private List<Record> records(Workload w, Map<String, Peer> peers, Map<String, String> refused,
            Map<String, List<Double>> samples, Map<String, List<Double>> rounds, Map<String, float[]> outputs) {
        float[] ref = outputs.get("cpu");
        double maxRef = ref == null ? Double.NaN : maxAbs(ref);
        List<Record> out = new ArrayList<>();
        for (String d : options.devices()) {
            if (refused.containsKey(d) && d.equals("cpu")) {
                throw new IllegalStateException("peers: convkit cpu did not run " + w.id() + ": " + refused.get(d));
            }
            if (refused.containsKey(d)) {
                out.add(new Record(w.id(), d, List.of(), List.of(), Double.NaN, Double.NaN, Double.NaN, maxRef, null,
                        refused.get(d)));
                continue;
            }
            double median = Stats.of(samples.get(d)).median();
            double err = ref == null ? Double.NaN : maxAbsDiff(outputs.get(d), ref);
            out.add(new Record(w.id(), d, List.copyOf(samples.get(d)), List.copyOf(rounds.get(d)),
                    w.flops() / (median * 1e6), w.bytes() / (median * 1e6), err, maxRef, peers.get(d).detail(), null));
        }
        return out;
    }

    static double maxAbs(float[] y) {
        double m = 0;
        for (float v : y) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /** max |y - ref|; NaN when y has a NaN or another length. */
    static double maxAbsDiff(float[] y, float[] ref) {
        if (y.length != ref.length) {
            return Double.NaN;
        }
        double m = 0;
        for (int i = 0; i < y.length; i++) {
            if (Float.isNaN(y[i])) {
                return Double.NaN;
            }
            m = Math.max(m, Math.abs((double) y[i] - ref[i]));
        }
        return m;
    }

    /** The convkit device each engine of the table is compared with: CLBlast runs on the OpenCL device. */
    static final String OPENCL = "opencl:0";

    /** {@code convkit}'s speedup over {@code peer} (peer time / convkit time), or null when either did not run. */
    static Speedup speedup(Record convkit, Record peer) {
        if (convkit == null || peer == null || !convkit.measured() || !peer.measured()) {
            return null;
        }
        List<Double> a = convkit.roundMedians();
        List<Double> b = peer.roundMedians();
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        if (a.size() == b.size()) {
            for (int i = 0; i < a.size(); i++) {
                min = Math.min(min, b.get(i) / a.get(i));
                max = Math.max(max, b.get(i) / a.get(i));
            }
        } else {
            for (double ta : a) {
                for (double tb : b) {
                    min = Math.min(min, tb / ta);
                    max = Math.max(max, tb / ta);
                }
            }
        }
        return new Speedup(peer.stats().median() / convkit.stats().median(), min, max);
    }

    /** The records as the JSON array of the issue: one object per workload and engine. */
    static String json(List<Record> records) {
        List<String> objects = new ArrayList<>();
        Map<String, Record> cpu = new LinkedHashMap<>();
        Map<String, Record> opencl = new LinkedHashMap<>();
        for (Record r : records) {
            if (r.device().equals("cpu")) {
                cpu.put(r.workload(), r);
            } else if (r.device().equals(OPENCL)) {
                opencl.put(r.workload(), r);
            }
        }
        for (Record r : records) {
            Json j = new Json().beginObject().field("workload", r.workload()).field("device", r.device());
            if (r.measured()) {
                Stats s = r.stats();
                j.field("median_ms", s.median()).field("min_ms", s.min()).field("max_ms", s.max());
            } else {
                j.field("median_ms", (Long) null).field("min_ms", (Long) null).field("max_ms", (Long) null);
            }
            j.field("gflops", r.gflops()).field("gbs", r.gbs()).field("samples", (long) r.ms().size())
                    .field("max_abs_err", r.maxAbsErr()).field("max_abs_ref", r.maxAbsRef());
            Speedup sp = r.device().equals("cpu") || cpu.get(r.workload()) == null ? null : speedup(cpu.get(r.workload()), r);
            if (sp != null) {
                j.field("cpu_speedup", sp.median()).field("cpu_speedup_min", sp.min()).field("cpu_speedup_max", sp.max());
            }
            Speedup ocl = r.device().equals(Peer.CLBLAST) ? speedup(opencl.get(r.workload()), r) : null;
            if (ocl != null) {
                j.field("opencl_speedup", ocl.median()).field("opencl_speedup_min", ocl.min())
                        .field("opencl_speedup_max", ocl.max());
            }
            j.field("detail", r.detail()).field("unavailable", r.unavailable());
            objects.add(j.endObject().toString());
        }
        return "[\n" + String.join(",\n", objects) + "\n]\n";
    }

    /** Writes {@link #json} to {@code file}, creating its folder. */
    /** Where the printed tables of a run are kept beside its JSON: {@code peers.json} gives {@code peers.txt}. */
    static Path textBeside(Path json) {
        String name = json.getFileName().toString();
        String base = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
        Path dir = json.toAbsolutePath().getParent();
        return dir.resolve(base + ".txt");
    }

    static void writeJson(Path file, List<Record> records) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(file, json(records));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The side-by-side table, the speedups, the errors and what each engine was. */
    static void print(PrintStream out, List<String> devices, List<Record> records) {
        Map<String, Map<String, Record>> byWorkload = new LinkedHashMap<>();
        for (Record r : records) {
            byWorkload.computeIfAbsent(r.workload(), k -> new LinkedHashMap<>()).put(r.device(), r);
        }
        List<String> peers = devices.stream().filter(d -> d.equals(Peer.ONNXRUNTIME) || d.equals(Peer.ONEDNN)).toList();
        out.println();
        boolean clblast = devices.contains(OPENCL) && devices.contains(Peer.CLBLAST);
        out.println("median ms per run (GFLOP/s, or GB/s for pooling and LRN); convkit cpu's speedup over each peer = "
                + "peer ms / cpu ms" + (clblast ? " (opencl:0's over CLBlast = CLBlast ms / opencl:0 ms)" : "") + ",");
        out.println("median [min-max of round pairs]; * = spread (max-min)/median over 25%; # = one timed run (runs "
                + "that long leave no time for more)");
        table(out, devices, peers, clblast, byWorkload, false);
        out.println();
        out.println("best run, ms (what each engine reaches when the shared machine lets it); speedup = peer best / cpu best"
                + (clblast ? " (CLBlast best / opencl:0 best)" : ""));
        table(out, devices, peers, clblast, byWorkload, true);
        out.println();
        out.println("max |y - y_cpu| against convkit cpu's output (max |y_cpu| for scale):");
        StringBuilder eh = new StringBuilder(String.format(Locale.ROOT, "%-22s %11s", "workload", "max |y_cpu|"));
        List<String> others = devices.stream().filter(d -> !d.equals("cpu")).toList();
        for (String d : others) {
            eh.append(String.format(Locale.ROOT, " %12s", label(d)));
        }
        out.println(eh);
        for (Map.Entry<String, Map<String, Record>> e : byWorkload.entrySet()) {
            Record cpu = e.getValue().get("cpu");
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-22s %11.4g", e.getKey(), cpu.maxAbsRef()));
            for (String d : others) {
                Record r = e.getValue().get(d);
                line.append(String.format(Locale.ROOT, " %12s", r == null || !r.measured() ? "-"
                        : Double.isNaN(r.maxAbsErr()) ? "NaN" : String.format(Locale.ROOT, "%.2e", r.maxAbsErr())));
            }
            out.println(line);
        }
        out.println();
        Map<String, String> details = new LinkedHashMap<>();
        Map<String, String> reasons = new LinkedHashMap<>();
        for (Record r : records) {
            if (r.measured()) {
                details.putIfAbsent(r.device(), r.detail());
            } else {
                // Most reasons name their engine already ("clblast: ...").
                String why = r.unavailable().startsWith(r.device()) ? r.unavailable() : r.device() + ": " + r.unavailable();
                reasons.merge(why, r.workload(), (a, b) -> a + ", " + b);
            }
        }
        details.forEach((d, s) -> out.println(label(d) + ": " + s));
        reasons.forEach((why, ws) -> out.println("not run: " + why + " (" + ws + ")"));
    }

    private static void table(PrintStream out, List<String> devices, List<String> peers, boolean clblast,
            Map<String, Map<String, Record>> byWorkload, boolean best) {
        StringBuilder h = new StringBuilder(String.format(Locale.ROOT, "%-22s", "workload"));
        for (String d : devices) {
            h.append(String.format(Locale.ROOT, " %19s", label(d) + " ms"));
        }
        for (String p : peers) {
            h.append(String.format(Locale.ROOT, best ? " %14s" : " %24s", "cpu vs " + label(p)));
        }
        if (clblast) {
            h.append(String.format(Locale.ROOT, best ? " %20s" : " %24s", OPENCL + " vs " + label(Peer.CLBLAST)));
        }
        out.println(h);
        for (Map.Entry<String, Map<String, Record>> e : byWorkload.entrySet()) {
            Workload w = Workloads.find(e.getKey());
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-22s", e.getKey()));
            for (String d : devices) {
                line.append(String.format(Locale.ROOT, " %19s", cell(w, e.getValue().get(d), best)));
            }
            Record cpu = e.getValue().get("cpu");
            for (String p : peers) {
                line.append(String.format(Locale.ROOT, best ? " %14s" : " %24s", versus(cpu, e.getValue().get(p), best)));
            }
            if (clblast) {
                line.append(String.format(Locale.ROOT, best ? " %20s" : " %24s",
                        versus(e.getValue().get(OPENCL), e.getValue().get(Peer.CLBLAST), best)));
            }
            out.println(line);
        }
    }

    /** A speedup cell: peer best / convkit best, or the median ratio with its round-pair range. */
    private static String versus(Record convkit, Record peer, boolean best) {
        if (best) {
            return convkit == null || peer == null || !convkit.measured() || !peer.measured() ? "-"
                    : ratio(peer.stats().min() / convkit.stats().min());
        }
        Speedup s = speedup(convkit, peer);
        return s == null ? "-" : String.format(Locale.ROOT, "%s [%s-%s]", ratio(s.median()), ratio(s.min()), ratio(s.max()));
    }

    private static String label(String device) {
        return switch (device) {
            case Peer.ONNXRUNTIME -> "ORT";
            case Peer.ONEDNN -> "oneDNN";
            case Peer.CLBLAST -> "CLBlast";
            default -> device;
        };
    }

    private static String cell(Workload w, Record r, boolean best) {
        if (r == null || !r.measured()) {
            return "-";
        }
        Stats s = r.stats();
        double t = best ? s.min() : s.median();
        double rate = (w.rate() == Workloads.Rate.GBS ? w.bytes() : w.flops()) / (t * 1e6);
        String mark = best ? "" : s.count() == 1 ? "#" : s.wide() ? "*" : "";
        return String.format(Locale.ROOT, "%s%s (%s)", millis(t), mark, rate >= 100
                ? String.format(Locale.ROOT, "%.0f", rate) : String.format(Locale.ROOT, "%.3g", rate));
    }

    private static String millis(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.3g", v);
    }

    private static String ratio(double v) {
        return String.format(Locale.ROOT, v >= 10 ? "%.0fx" : v >= 1 ? "%.2fx" : "%.3fx", v);
    }
    /**
     * convkit cpu's convolutions as a share of the CPU's FMA peak probed in the same run
     * ({@code probes}, GFLOP/s, PeakFma on the suite's threads): the rate at the median run and
     * at the best run, over the best probe (noise only lowers a probe, so the best is the peak).
     */
    static void printPeakShare(PrintStream out, List<Record> records, double[] probes) {
        Stats p = Stats.of(probes);
        out.printf(Locale.ROOT, "FMA peak probed in this run (%d probes, before and after the workloads): best %.0f GFLOP/s, "
                + "median %.0f%n", probes.length, p.max(), p.median());
        out.println("convkit cpu's convolutions as a share of it (a Winograd path does fewer multiplies than it is "
                + "credited with, so it can pass 100%):");
        out.printf(Locale.ROOT, "%-22s %14s %14s%n", "workload", "median run", "best run");
        for (Record r : records) {
            Workload w = Workloads.find(r.workload());
            if (!r.device().equals("cpu") || !r.measured() || w.rate() != Workloads.Rate.GFLOPS) {
                continue;
            }
            Stats s = r.stats();
            out.printf(Locale.ROOT, "%-22s %13.0f%% %13.0f%%%n", r.workload(), 100 * w.flops() / (s.median() * 1e6) / p.max(),
                    100 * w.flops() / (s.min() * 1e6) / p.max());
        }
    }
}
