package org.convkit.bench.harness;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** The console tables of a run. */
final class Summary {
    private Summary() {
    }

    static void print(PrintStream out, List<Peaks> peaks, List<BindingOverhead.Result> binding, List<Result> results) {
        if (!peaks.isEmpty()) {
            out.println();
            out.printf(Locale.ROOT, "%-10s %12s %12s %12s %12s %12s%n", "device", "FMA GFLOP/s", "copy GB/s", "to dev GB/s",
                    "to host GB/s", "launch us");
            for (Peaks p : peaks) {
                out.printf(Locale.ROOT, "%-10s %12.1f %12.1f %12.1f %12.1f %12.1f%n", p.device(), p.fmaGflops().median(),
                        p.copyGBs().median(), p.toDeviceGBs().median(), p.toHostGBs().median(), p.launchMicros().median());
            }
        }
        if (!binding.isEmpty()) {
            out.println();
            out.printf(Locale.ROOT, "%-40s %8s %10s %10s %8s %14s%n", "binding overhead", "launches", "java ms", "C ms",
                    "ratio", "us per launch");
            for (BindingOverhead.Result b : binding) {
                out.printf(Locale.ROOT, "%-40s %8d %10.4f %10.4f %8.3f %14.2f%n", b.workload(), b.launches(),
                        b.java().median(), b.c().median(), b.ratio(), b.overheadMicrosPerLaunch());
            }
        }
        if (!results.isEmpty()) {
            out.println();
            out.printf(Locale.ROOT, "%-34s %-10s %9s %9s %9s %9s %8s %7s %9s%n", "workload", "device", "median ms", "min",
                    "max", "GFLOP/s", "GB/s", "% roof", "max err");
            for (Result r : results) {
                out.printf(Locale.ROOT, "%-34s %-10s %9.3f %9.3f %9.3f %9s %8s %7s %9s%s%n", r.workload(), r.device(),
                        r.ms().median(), r.ms().min(), r.ms().max(), num(r.gflops(), "%.1f"), num(r.gbs(), "%.2f"),
                        num(r.percentOfPeak(), "%.1f"), num(r.maxError(), "%.1e"), r.ms().wide() ? "  (wide spread)" : "");
            }
        }
    }

    static String num(double v, String format) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, format, v);
    }
}
