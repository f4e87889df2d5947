package org.convkit.bench.harness;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.convkit.backend.opencl.ClTrace;
import org.convkit.bench.BenchCase;
import org.convkit.bench.OpRunner;

/**
 * What convkit's Java path adds to an OpenCL launch. For each case, convkit runs the op
 * ({@code Kernel.run} and a wait for the device) while {@link ClTrace} records its launches; the
 * C program {@code clreplay} (native-bench/c/clreplay.c, built here with gcc) then launches the
 * very same kernels with the same arguments and work sizes through the OpenCL C API. Rounds
 * alternate Java and C so that both see the same machine; each reports the per-iteration wall
 * time from queueing the launches to the end of clFinish. The Java side is warmed up for a second
 * first, so that both sides are measured compiled.
 */
public final class BindingOverhead {
    /**
     * One case's comparison.
     *
     * @param workload the case
     * @param launches OpenCL launches per iteration
     * @param java convkit's times, ms
     * @param c the C API's times, ms
     */
    public record Result(String workload, int launches, Stats java, Stats c) {
        /** Java median over C median. */
        public double ratio() {
            return java.median() / c.median();
        }

        /** (Java - C) median per launch, in microseconds. */
        public double overheadMicrosPerLaunch() {
            return (java.median() - c.median()) * 1000 / launches;
        }
    }

    /** The least time each case runs in Java before it is measured. */
    private static final long WARMUP_NANOS = 1_000_000_000L;

    private final Path work;
    private final Path replayer;

    private BindingOverhead(Path work, Path replayer) {
        this.work = work;
        this.replayer = replayer;
    }

    /** Compiles clreplay into {@code work} (gcc and the OpenCL headers are needed). */
    public static BindingOverhead prepare(Path work) {
        try {
            Files.createDirectories(work);
            Path src = work.resolve("clreplay.c");
            try (InputStream in = BindingOverhead.class.getResourceAsStream("/org/convkit/bench/c/clreplay.c")) {
                if (in == null) {
                    throw new IllegalStateException("clreplay.c is not packaged with the benchmarks");
                }
                Files.write(src, in.readAllBytes());
            }
            Path bin = work.resolve("clreplay");
            run(List.of("gcc", "-O2", "-o", bin.toString(), src.toString(), "-lOpenCL"), 120);
            return new BindingOverhead(work, bin);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Compares Java and C on {@code device} ({@code opencl:N}) for one case. */
    public Result measure(String device, String name, BenchCase c, int rounds, int iterations) {
        int index = Integer.parseInt(device.substring(device.indexOf(':') + 1));
        List<Double> java = new ArrayList<>();
        List<Double> native_ = new ArrayList<>();
        int launches;
        try (OpRunner runner = OpRunner.open(device, c)) {
            // Warm-up by count and by time: the JIT compiles the launch path only after some
            // thousands of launches, and 3 runs left the measured ones interpreted (an empty launch
            // then took 20-30 us more than in C; LaunchOverhead shows the curve).
            long warmEnd = System.nanoTime() + WARMUP_NANOS;
            for (int i = 0; i < 3 || System.nanoTime() < warmEnd; i++) {
                runner.run();
            }
            ClTrace.start();
            runner.run();
            List<ClTrace.Launch> trace = ClTrace.stop();
            launches = trace.size();
            Path spec = work.resolve(name + ".spec");
            Files.writeString(spec, ClTrace.spec(trace));
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < iterations; i++) {
                    long t0 = System.nanoTime();
                    runner.run();
                    java.add((System.nanoTime() - t0) / 1e6);
                }
                native_.addAll(replay(index, iterations, spec));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Result(name, launches, Stats.of(java), Stats.of(native_));
    }

    private static final Pattern MS = Pattern.compile("\"ms\": \\[([^\\]]*)\\]");

    private List<Double> replay(int device, int iterations, Path spec) {
        String out = run(List.of(replayer.toString(), Integer.toString(device), "3", Integer.toString(iterations),
                spec.toString()), 600);
        Matcher m = MS.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("clreplay printed no timings: " + out);
        }
        List<Double> ms = new ArrayList<>();
        for (String v : m.group(1).split(",")) {
            ms.add(Double.parseDouble(v.trim()));
        }
        return ms;
    }

    private static String run(List<String> command, int timeoutSeconds) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(command.get(0) + " timed out");
            }
            String text = new String(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed (" + p.exitValue() + "): " + text);
            }
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
