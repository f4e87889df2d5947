package org.convkit.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.convkit.backend.Device;
import org.convkit.backend.opencl.ClDevice;
import org.convkit.exec.ExecutionMode;
import org.convkit.exec.InferenceResult;
import org.convkit.exec.Session;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.memory.Leaks;
import org.convkit.tensor.Tensor;

/**
 * A long run of small inferences on one device with the process's resources sampled as it goes:
 * live device bytes, live host bytes, the device's open OpenCL objects, reported leaks, the
 * resident set (native memory as the OS sees it) and the Java heap in use. After a warm-up, everything
 * convkit accounts must stay exactly where it is, and the resident set within a bound when the
 * heap is fixed: a leak of
 * a buffer, a kernel object or native memory per run shows as a line that climbs.
 */
final class Soak {
    /** One sample, taken between runs. */
    record Sample(double seconds, long runs, long deviceLive, long hostLive, Map<String, Integer> clObjects, long leaks,
            long rssBytes, long heapUsed) {
    }

    /** The samples and the verdict. */
    record Result(List<Sample> samples, int warmup, long rssDrift, boolean rssJudged, List<String> problems) {
        boolean flat() {
            return problems.isEmpty();
        }
    }

    /**
     * Resident-set growth after the warm-up that still counts as flat: malloc arenas, the code
     * cache and metaspace settle in steps of a few MiB. One leaked 4 KiB-aligned buffer per run
     * passes it within a few thousand runs.
     */
    static final long RSS_TOLERANCE = 32L << 20;

    private Soak() {
    }

    /**
     * Runs {@code model} on {@code device} until {@code maxRuns} runs or {@code maxSeconds} have
     * passed, taking {@code samples} samples at even steps; the first quarter is the warm-up.
     */
    static Result run(Model model, Device device, ExecutionMode mode, long maxRuns, double maxSeconds, int samples,
            PrintStream progress) {
        List<Sample> out = new ArrayList<>();
        Allocator host = Allocator.host();
        long t0 = System.nanoTime();
        try (Session session = Session.open(model, device, mode);
                Tensor input = Tensor.allocate(model.inputShape()).fillUniform(7, -1f, 1f)) {
            long runs = 0;
            for (int s = 1; s <= samples; s++) {
                long until = maxRuns == Long.MAX_VALUE ? Long.MAX_VALUE : maxRuns * s / samples;
                double deadline = maxSeconds * s / samples;
                while (runs < until && seconds(t0) < deadline) {
                    try (InferenceResult r = session.run(input)) {
                        runs++;
                    }
                }
                Sample sample = new Sample(seconds(t0), runs, device.allocator().liveBytes(), host.liveBytes(),
                        device instanceof ClDevice cl ? new TreeMap<>(cl.openObjects()) : Map.of(), Leaks.count(), rss(),
                        Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory());
                out.add(sample);
                if (progress != null) {
                    progress.println(line(sample));
                }
            }
        }
        return judge(out, heapFixed());
    }

    /**
     * Whether the Java heap is committed in full ({@code -Xms} = {@code -Xmx}, as the launcher's
     * soak command runs it, with {@code -XX:+AlwaysPreTouch}): only then does the resident set
     * move with native memory alone rather than with the heap's growth.
     */
    static boolean heapFixed() {
        return Runtime.getRuntime().totalMemory() == Runtime.getRuntime().maxMemory();
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    static Result judge(List<Sample> samples, boolean judgeRss) {
        int warmup = Math.max(1, samples.size() / 4);
        List<String> problems = new ArrayList<>();
        if (samples.size() <= warmup) {
            problems.add("too few samples (" + samples.size() + ") to judge");
            return new Result(samples, warmup, 0, judgeRss, problems);
        }
        Sample ref = samples.get(warmup);
        for (Sample s : samples.subList(warmup, samples.size())) {
            if (s.deviceLive() != ref.deviceLive()) {
                problems.add(String.format(Locale.ROOT, "device live bytes moved: %,d B at %,d runs, %,d B at %,d runs",
                        ref.deviceLive(), ref.runs(), s.deviceLive(), s.runs()));
            }
            if (s.hostLive() != ref.hostLive()) {
                problems.add(String.format(Locale.ROOT, "host live bytes moved: %,d B at %,d runs, %,d B at %,d runs",
                        ref.hostLive(), ref.runs(), s.hostLive(), s.runs()));
            }
            if (!s.clObjects().equals(ref.clObjects())) {
                problems.add("open OpenCL objects moved: " + ref.clObjects() + " at " + ref.runs() + " runs, " + s.clObjects()
                        + " at " + s.runs() + " runs");
            }
            if (s.leaks() != samples.get(0).leaks()) {
                problems.add((s.leaks() - samples.get(0).leaks()) + " forgotten close() reported (see the warnings)");
            }
        }
        long drift = samples.get(samples.size() - 1).rssBytes() - ref.rssBytes();
        if (judgeRss && drift > RSS_TOLERANCE) {
            problems.add(String.format(Locale.ROOT, "the resident set grew by %,d B after the warm-up (tolerance %,d B)",
                    drift, RSS_TOLERANCE));
        }
        return new Result(samples, warmup, drift, judgeRss, problems.stream().distinct().limit(10).toList());
    }

    /** The resident set size from /proc/self/statm; -1 where there is none. */
    static long rss() {
        try {
            String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
            return Long.parseLong(f[1]) * 4096;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static String header() {
        return String.format(Locale.ROOT, "%8s %10s %14s %12s %-36s %6s %9s %14s", "seconds", "runs", "device live B",
                "host live B", "open OpenCL objects", "leaks", "RSS MiB", "heap used MiB");
    }

    static String line(Sample s) {
        return String.format(Locale.ROOT, "%8.1f %,10d %,14d %,12d %-36s %6d %9.1f %14.1f", s.seconds(), s.runs(),
                s.deviceLive(), s.hostLive(), s.clObjects().isEmpty() ? "-" : s.clObjects().toString(), s.leaks(),
                s.rssBytes() / 1048576.0, s.heapUsed() / 1048576.0);
    }
}
