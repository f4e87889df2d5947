package org.convkit.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.bench.harness.Stats;
import org.convkit.exec.ExecutionMode;
import org.convkit.exec.InferenceResult;
import org.convkit.exec.Session;
import org.convkit.graph.Model;
import org.convkit.graph.SeedNet;
import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * The CPU convolutions before and after the fast paths, in one process, interleaved, next to the
 * machine's peak FMA rate measured in the same run: on a shared machine only such a comparison
 * means something.
 *
 * <p>"Before" is the direct loops the CPU backend had before its fast paths, still its fallback
 * and selected for every shape by the system property {@code convkit.cpu.conv=direct} (read when a
 * kernel is prepared, so both variants live side by side here); "after" is the default choice.
 * {@code --baseline gemm} makes "before" the default choice with the Winograd path off
 * ({@code convkit.cpu.winograd=false}), the GEMM paths 3x3 layers took before it; {@code --baseline f43}
 * the default choice with F(2x2, 3x3) off ({@code convkit.cpu.winograd=4}), the choice before that path.
 * {@code --after-winograd V} sets {@code convkit.cpu.winograd=V} for "after" ({@code 2}: F(2x2, 3x3)
 * wherever it applies; {@code 4}: F(4x4, 3x3) as chosen before it; {@code false}), and
 * {@code --before-winograd V} for "before", to measure crossovers.
 * Per workload: both variants are prepared and warmed up (3 s, 1 s), then {@code --rounds} rounds each run
 * a peak probe ({@link PeakFma}, all threads), the fast variant (calls for at least
 * {@code --round-ms}) and the baseline (the same, at least one call; the baseline stops after
 * {@code --before-s} seconds, 3 rounds at least, since it can take seconds per call). A round's
 * figure is its mean time per call; the table gives the median over rounds and the spread (min
 * and max), GFLOP/s at the median and its share of the workload's best peak probe. Since other
 * processes come and go, it also gives the median over the quiet rounds alone: those whose peak
 * probe reached 90% of the best (how many, and their GFLOP/s and share of the peak); and the CPU
 * time per call of the threads that compute (the caller and the devices' pool threads), whose
 * GFLOP per CPU-second over the best one-thread probe is the share of one core's peak that a
 * core reached while it was computing, whatever the scheduler did meanwhile.
 *
 * <p>Workloads: {@link Conv2dBench#CASES}, {@link SeparableConv2dBench#CASES} and {@link #WINOGRAD_CASES} by key,
 * {@code seed_conv2_b50}, {@code seed_conv3_b50} (the seed network's layers alone at batch 50, as
 * {@link Workloads} has them; their direct loops take seconds per call: {@code --before-s 1}), and
 * {@code seednet_b1}, {@code seednet_b50}: the whole seed network through a planned
 * {@link Session} (upload, three convolutions, download). Run:
 * {@code java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp
 * native-bench/target/benchmarks.jar org.convkit.bench.CpuConvCompare [--rounds 10] [--baseline gemm|f43] [--before-winograd V] [--after-winograd 2|4|false] [ids...]}.
 */
public final class CpuConvCompare {
    private static final String PROPERTY = OpRunner.CPU_PATH_PROPERTY;
    /** The CPU backend's switch for its Winograd path (CpuConv2d.WINOGRAD_PROPERTY). */
    private static final String WINOGRAD_PROPERTY = "convkit.cpu.winograd";

    /**
     * 3x3 stride-1 layers of ResNet-50, GoogLeNet and VGG-16 (batch 1, bias and ReLU as in those
     * networks) that {@link Conv2dBench#CASES} lacks, and square 7x7 ones around the F(2x2, 3x3)
     * crossover: the shapes the Winograd paths take or leave, to check them against the GEMM
     * paths beyond W3a and W3b; and 1x1 layers of ResNet-50 beside W3c.
     */
    static final Map<String, BenchCase> WINOGRAD_CASES = Map.ofEntries(
            Map.entry("r50_3x3_128_28", conv3x3(128, 128, 28)),
            Map.entry("r50_3x3_512_7", conv3x3(512, 512, 7)),
            Map.entry("gln_3x3_96to128_28", conv3x3(96, 128, 28)),
            Map.entry("gln_3x3_112to224_14", conv3x3(112, 224, 14)),
            Map.entry("gln_3x3_160to320_7", conv3x3(160, 320, 7)),
            Map.entry("gln_3x3_96to208_14", conv3x3(96, 208, 14)),
            Map.entry("gln_3x3_144to288_14", conv3x3(144, 288, 14)),
            Map.entry("gln_3x3_192to384_7", conv3x3(192, 384, 7)),
            Map.entry("gln_3x3_16to32_28", conv3x3(16, 32, 28)),
            Map.entry("gln_3x3_64to192_56", conv3x3(64, 192, 56)),
            Map.entry("vgg_3x3_512_14", conv3x3(512, 512, 14)),
            Map.entry("c128_3x3_128_7", conv3x3(128, 128, 7)),
            Map.entry("c64_3x3_64_7", conv3x3(64, 64, 7)),
            Map.entry("c256_3x3_256_7", conv3x3(256, 256, 7)),
            Map.entry("r50_1x1_64to256_56", conv1x1(64, 256, 56)),
            Map.entry("r50_1x1_512to128_28", conv1x1(512, 128, 28)),
            Map.entry("r50_1x1_1024to256_14", conv1x1(1024, 256, 14)),
            Map.entry("r50_1x1_128to512_28", conv1x1(128, 512, 28)));

    private static BenchCase conv3x3(int c, int oc, int size) {
        return BenchCase.of(Conv2d.builder(oc).kernel(3).padding(Padding.SAME).activation(Activation.RELU).build(),
                Shape.nchw(1, c, size, size));
    }

    private static BenchCase conv1x1(int c, int oc, int size) {
        return BenchCase.of(Conv2d.builder(oc).kernel(1).activation(Activation.RELU).build(), Shape.nchw(1, c, size, size));
    }

    private CpuConvCompare() {
    }

    /** Something to time: one call, and what it costs. */
    private interface Timed extends AutoCloseable {
        void call();

        @Override
        void close();
    }

    private record Workload(String id, double flops, Supplier<Timed> open) {
    }

    private static Timed op(BenchCase c) {
        OpRunner r = OpRunner.open("cpu", c);
        return new Timed() {
            @Override
            public void call() {
                r.run();
            }

            @Override
            public void close() {
                r.close();
            }
        };
    }

    private static Timed net(int batch) {
        Model model = SeedNet.build(batch, 42);
        Device device = Backends.system().open("cpu");
        Session session = Session.open(model, device, ExecutionMode.PLANNED);
        Tensor image = Tensor.allocate(model.inputShape()).fillUniform(1, 0f, 1f);
        return new Timed() {
            @Override
            public void call() {
                try (InferenceResult r = session.run(image)) {
                    if (r.output() == null) {
                        throw new IllegalStateException("no output");
                    }
                }
            }

            @Override
            public void close() {
                image.close();
                session.close();
                device.close();
                model.close();
            }
        };
    }

    private static Map<String, Workload> workloads() {
        Map<String, Workload> all = new LinkedHashMap<>();
        for (Map<String, BenchCase> cases : List.of(Conv2dBench.CASES, SeparableConv2dBench.CASES, WINOGRAD_CASES)) {
            cases.keySet().stream().sorted().forEach(id -> {
                BenchCase c = cases.get(id);
                all.put(id, new Workload(id, c.flops(), () -> op(c)));
            });
        }
        // The seed network's conv2 and conv3 at batch 50 alone, as the peers harness runs them
        // (bias and ReLU); their direct loops take seconds per call, so give them few rounds.
        for (String id : List.of("W2_seed_b50_L2", "W2_seed_b50_L3")) {
            BenchCase c = Workloads.find(id).benchCase();
            String key = id.endsWith("L2") ? "seed_conv2_b50" : "seed_conv3_b50";
            all.put(key, new Workload(key, c.flops(), () -> op(c)));
        }
        for (int batch : new int[] {1, 50}) {
            try (Model m = SeedNet.build(batch, 42)) {
                all.put("seednet_b" + batch, new Workload("seednet_b" + batch, m.flops(), () -> net(batch)));
            }
        }
        return all;
    }

    /** What "before" runs: the direct loops, or the GEMM paths (the default choice with the Winograd path off). */
    private enum Baseline {
        DIRECT, GEMM, F43
    }

    private static Timed open(Workload w, boolean before, Baseline baseline) {
        if (before && baseline == Baseline.DIRECT) {
            System.setProperty(PROPERTY, "direct");
        }
        if (before && baseline == Baseline.GEMM) {
            System.setProperty(WINOGRAD_PROPERTY, "false");
        }
        if (before && baseline == Baseline.F43) {
            System.setProperty(WINOGRAD_PROPERTY, "4");
        }
        String winograd = before ? beforeWinograd : afterWinograd;
        if (winograd != null) {
            System.setProperty(WINOGRAD_PROPERTY, winograd);
        }
        try {
            return w.open().get();
        } finally {
            System.clearProperty(PROPERTY);
            System.clearProperty(WINOGRAD_PROPERTY);
        }
    }

    /** {@code --after-winograd}: the Winograd switch's value for "after" (null: the default choice). */
    private static String afterWinograd;
    /** {@code --before-winograd}: the same for "before", over the baseline's. */
    private static String beforeWinograd;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** CPU nanoseconds used so far by this thread and the CPU devices' pool threads. */
    private static long workerCpuNanos() {
        long sum = THREADS.getCurrentThreadCpuTime();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("convkit-cpu-")) {
                sum += Math.max(0, THREADS.getThreadCpuTime(t.threadId()));
            }
        }
        return sum;
    }

    /** A round's mean wall and CPU ms per call (CPU: the calling thread and the devices' pool threads). */
    private record Round(double wall, double cpu) {
    }

    /** Calls lasting at least {@code ms} (one call at least). */
    private static Round round(Timed t, double ms) {
        int calls = 0;
        long c0 = workerCpuNanos();
        long t0 = System.nanoTime();
        long now;
        do {
            t.call();
            calls++;
            now = System.nanoTime();
        } while ((now - t0) / 1e6 < ms);
        long c1 = workerCpuNanos();
        return new Round((now - t0) / 1e6 / calls, (c1 - c0) / 1e6 / calls);
    }

    public static void main(String[] args) {
        int rounds = 10;
        double roundMs = 60;
        double beforeS = 20;
        Baseline baseline = Baseline.DIRECT;
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--round-ms" -> roundMs = Double.parseDouble(args[++i]);
                case "--before-s" -> beforeS = Double.parseDouble(args[++i]);
                case "--baseline" -> baseline = Baseline.valueOf(args[++i].toUpperCase(Locale.ROOT));
                case "--after-winograd" -> afterWinograd = args[++i];
                case "--before-winograd" -> beforeWinograd = args[++i];
                default -> ids.add(args[i]);
            }
        }
        Map<String, Workload> all = workloads();
        if (ids.isEmpty()) {
            ids.addAll(all.keySet());
        }
        int threads = Runtime.getRuntime().availableProcessors();
        double[] peak1 = PeakFma.measure(1, 5);
        System.out.printf(Locale.ROOT, "peak FMA: 1 thread best %.1f GFLOP/s (median %.1f); %d threads probed "
                + "within each workload%n", Stats.of(peak1).max(), PeakFma.median(peak1), threads);
        System.out.printf(Locale.ROOT, "%-18s %28s %26s %8s %8s %7s %7s | %s | %s%n", "workload", "before ms med [min,max]",
                "after ms med [min,max]", "speedup", "GFLOP/s", "peak", "%peak",
                "quiet rounds: n, after ms, GFLOP/s, %peak", "after CPU ms, %1-core peak");
        List<Double> peaks = new ArrayList<>();
        for (String id : ids) {
            Workload w = all.get(id);
            if (w == null) {
                throw new IllegalArgumentException("unknown workload " + id + "; known: " + all.keySet());
            }
            try (Timed before = open(w, true, baseline); Timed after = open(w, false, baseline)) {
                // Long enough for the JIT to finish compiling the kernels, even on a loaded machine.
                round(after, 3000);
                round(before, Math.min(1000, beforeS * 200));
                double[] a = new double[rounds];
                double[] cpu = new double[rounds];
                List<Double> b = new ArrayList<>();
                double[] p = new double[rounds];
                double beforeSpent = 0;
                for (int r = 0; r < rounds; r++) {
                    p[r] = PeakFma.once(threads);
                    Round ra = round(after, roundMs);
                    a[r] = ra.wall();
                    cpu[r] = ra.cpu();
                    if (r < 3 || beforeSpent < beforeS * 1000) {
                        double ms = round(before, roundMs).wall();
                        b.add(ms);
                        beforeSpent += Math.max(ms, roundMs);
                    }
                }
                double[] bs = b.stream().mapToDouble(Double::doubleValue).toArray();
                double medA = PeakFma.median(a);
                double gflops = w.flops() / (medA * 1e6);
                double peak = Stats.of(p).max();
                peaks.add(peak);
                List<Double> quiet = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    if (p[r] >= 0.9 * peak) {
                        quiet.add(a[r]);
                    }
                }
                double medQ = PeakFma.median(quiet.stream().mapToDouble(Double::doubleValue).toArray());
                double gflopsQ = w.flops() / (medQ * 1e6);
                double perCore = w.flops() / (PeakFma.median(cpu) * 1e6);
                System.out.printf(Locale.ROOT, "%-18s %28s %26s %7.1fx %8.1f %7.0f %6.1f%% | %2d, %8.3f, %6.1f, %5.1f%% | %8.3f %6.1f%%%n",
                        id, Stats.of(bs).brief(), Stats.of(a).brief(), PeakFma.median(bs) / medA, gflops, peak, 100 * gflops / peak, quiet.size(),
                        medQ, gflopsQ, 100 * gflopsQ / peak, PeakFma.median(cpu), 100 * perCore / Stats.of(peak1).max());
            }
        }
        System.out.printf(Locale.ROOT, "peak probes (%d threads, best per workload): %s%n", threads, peaks.stream()
                .map(v -> String.format(Locale.ROOT, "%.0f", v)).toList());
    }
}
