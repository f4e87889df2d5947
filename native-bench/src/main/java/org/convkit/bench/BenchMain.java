package org.convkit.bench;

import java.lang.reflect.Field;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.util.Statistics;

/**
 * Entry point of {@code benchmarks.jar}: runs JMH with the given arguments (JMH's own command
 * line), then prints for each result the median / min / max of the measurement iterations (ms
 * per call) and the GFLOP/s and GB/s of the median, from the case's op descriptor.
 *
 * <p>Convention for op benchmarks: parameters {@code device} and {@code workload} (a key of the
 * class's {@code public static final Map<String, BenchCase> CASES}); {@link OpRunner} does the rest.
 * A {@code cpuPath} parameter other than {@code auto} is shown next to the case.
 */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        CommandLineOptions cmd = new CommandLineOptions(args);
        if (cmd.shouldHelp() || cmd.shouldList() || cmd.shouldListWithParams() || cmd.shouldListProfilers()
                || cmd.shouldListResultFormats()) {
            org.openjdk.jmh.Main.main(args);
            return;
        }
        Collection<RunResult> results = new Runner(cmd).run();
        System.out.println();
        System.out.println("convkit summary (ms per call over measurement iterations; rates from the op descriptor):");
        System.out.printf(Locale.ROOT, "%-24s %-10s %-22s %9s %9s %9s %9s %8s%n", "benchmark", "device", "case", "median",
                "min", "max", "GFLOP/s", "GB/s");
        for (RunResult r : results) {
            String bench = r.getParams().getBenchmark();
            String className = bench.substring(0, bench.lastIndexOf('.'));
            String shortName = bench.substring(className.lastIndexOf('.') + 1);
            String device = r.getParams().getParam("device");
            String workload = r.getParams().getParam("workload");
            String cpuPath = r.getParams().getParam("cpuPath");
            String label = workload == null ? "-" : cpuPath == null || cpuPath.equals("auto") ? workload
                    : workload + " (" + cpuPath + ")";
            Statistics s = r.getPrimaryResult().getStatistics();
            double median = s.getPercentile(50);
            BenchCase c = workload == null ? null : cases(className).get(workload);
            String gflops = c == null || c.flops() == 0 ? "-" : String.format(Locale.ROOT, "%.1f", c.flops() / (median * 1e6));
            String gbs = c == null ? "-" : String.format(Locale.ROOT, "%.2f", c.bytes() / (median * 1e6));
            System.out.printf(Locale.ROOT, "%-24s %-10s %-22s %9.3f %9.3f %9.3f %9s %8s%n", shortName,
                    device == null ? "-" : device, label, median, s.getMin(), s.getMax(), gflops, gbs);
        }
    }

    /** The {@code CASES} map of a benchmark class, or an empty map. */
    @SuppressWarnings("unchecked")
    private static Map<String, BenchCase> cases(String className) {
        try {
            Field f = Class.forName(className).getField("CASES");
            return (Map<String, BenchCase>) f.get(null);
        } catch (ReflectiveOperationException | ClassCastException e) {
            return Map.of();
        }
    }
}
