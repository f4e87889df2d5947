package org.convkit.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.convkit.bench.harness.Stats;

/**
 * The CPU pooling and LRN kernels before and after their vectorised paths, in one process,
 * interleaved round by round: on a shared machine only such a comparison means something.
 *
 * <p>"Before" is the plain loops, still in the kernels and selected by the system property
 * {@value OpRunner#CPU_PATH_PROPERTY}{@code =direct} while a kernel is prepared; "after" is the
 * default. Per workload both are warmed up (2 s each), then each of {@code --rounds} rounds runs
 * both for {@code --round-ms}; a round's figure is its mean time per call. The table gives the
 * median over rounds with min and max, the speedup of the medians, and GB/s (input and output
 * bytes once each, from the descriptor) at the median and at the best round. Before the timing,
 * the two outputs are compared: max pooling must agree bit for bit.
 *
 * <p>Workloads: {@link Pool2dBench#CASES} and {@link LrnBench#CASES} by key ({@code resnet50_maxpool}
 * is W5a of the peers suite, {@code alexnet_lrn1} W5b). Run: {@code java
 * --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp
 * native-bench/target/benchmarks.jar org.convkit.bench.PoolLrnCompare [--rounds 15] [ids...]}.
 */
public final class PoolLrnCompare {
    private PoolLrnCompare() {
    }

    private static Map<String, BenchCase> workloads() {
        Map<String, BenchCase> all = new LinkedHashMap<>();
        for (Map<String, BenchCase> cases : List.of(Pool2dBench.CASES, LrnBench.CASES)) {
            cases.keySet().stream().sorted().forEach(id -> all.put(id, cases.get(id)));
        }
        return all;
    }

    /** Mean ms per call over calls lasting at least {@code ms}. */
    private static double round(OpRunner r, double ms) {
        int calls = 0;
        long t0 = System.nanoTime();
        long now;
        do {
            r.run();
            calls++;
            now = System.nanoTime();
        } while ((now - t0) / 1e6 < ms);
        return (now - t0) / 1e6 / calls;
    }

    public static void main(String[] args) {
        int rounds = 15;
        double roundMs = 100;
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--round-ms" -> roundMs = Double.parseDouble(args[++i]);
                default -> ids.add(args[i]);
            }
        }
        Map<String, BenchCase> all = workloads();
        if (ids.isEmpty()) {
            ids.addAll(all.keySet());
        }
        System.out.printf(Locale.ROOT, "%-20s %28s %28s %8s %9s %9s %9s %s%n", "workload", "before ms med [min,max]",
                "after ms med [min,max]", "speedup", "MB moved", "GB/s med", "GB/s best", "outputs");
        for (String id : ids) {
            BenchCase c = all.get(id);
            if (c == null) {
                throw new IllegalArgumentException("unknown workload " + id + "; known: " + all.keySet());
            }
            try (OpRunner before = OpRunner.open("cpu", c, "direct"); OpRunner after = OpRunner.open("cpu", c, "auto")) {
                before.run();
                after.run();
                String agreement = agreement(before.output(), after.output());
                round(after, 2000);
                round(before, 2000);
                double[] a = new double[rounds];
                double[] b = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    a[r] = round(after, roundMs);
                    b[r] = round(before, roundMs);
                }
                double gb = c.bytes() / 1e9;
                double medA = PeakFma.median(a);
                System.out.printf(Locale.ROOT, "%-20s %28s %28s %7.1fx %9.2f %9.1f %9.1f %s%n", id, Stats.of(b).brief(), Stats.of(a).brief(),
                        PeakFma.median(b) / medA, c.bytes() / 1e6, gb / (medA / 1e3), gb / (Stats.of(a).min() / 1e3), agreement);
            }
        }
    }

    /** "bit-exact" or the largest relative difference. */
    private static String agreement(float[] x, float[] y) {
        double worst = 0;
        boolean exact = true;
        for (int i = 0; i < x.length; i++) {
            exact &= Float.floatToRawIntBits(x[i]) == Float.floatToRawIntBits(y[i]);
            worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(Math.abs(x[i]), Float.MIN_NORMAL));
        }
        return exact ? "bit-exact" : String.format(Locale.ROOT, "max rel diff %.2e", worst);
    }
}
