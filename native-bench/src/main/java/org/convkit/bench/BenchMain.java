package org.convkit.bench;

import java.util.Collection;
import java.util.Locale;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.util.Statistics;

/**
 * Entry point of {@code benchmarks.jar}: runs JMH with the given arguments (the same as JMH's
 * own command line), then prints, for each convolution result, the median / min / max time of
 * the measurement iterations and the GFLOP/s the median gives.
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
        System.out.println("convkit summary (ms per call over measurement iterations; GFLOP/s from the op descriptor):");
        System.out.printf(Locale.ROOT, "%-20s %-10s %-18s %9s %9s %9s %9s%n", "benchmark", "device", "case", "median",
                "min", "max", "GFLOP/s");
        for (RunResult r : results) {
            String bench = r.getParams().getBenchmark();
            String shortName = bench.substring(bench.lastIndexOf('.', bench.lastIndexOf('.') - 1) + 1);
            String device = r.getParams().getParam("device");
            String layer = r.getParams().getParam("layer");
            Statistics s = r.getPrimaryResult().getStatistics();
            double median = s.getPercentile(50);
            Conv2dBench.Case c = layer == null ? null : Conv2dBench.CASES.get(layer);
            String gflops = c == null ? "-" : String.format(Locale.ROOT, "%.1f", c.flops() / (median * 1e6));
            System.out.printf(Locale.ROOT, "%-20s %-10s %-18s %9.3f %9.3f %9.3f %9s%n", shortName,
                    device == null ? "-" : device, layer == null ? "-" : layer, median, s.getMin(), s.getMax(), gflops);
        }
    }
}
