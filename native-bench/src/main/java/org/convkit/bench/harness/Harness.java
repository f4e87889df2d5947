package org.convkit.bench.harness;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.bench.OpRunner;
import org.convkit.exec.ExecutionMode;
import org.convkit.exec.InferenceResult;
import org.convkit.exec.RunOptions;
import org.convkit.exec.Session;
import org.convkit.graph.Graph;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.memory.Footprint;
import org.convkit.memory.Optimizer;
import org.convkit.tensor.DType;
import org.convkit.tensor.Tensor;

/**
 * Runs the suites. Noise handling: every case gets a warm-up, then rounds in which the devices
 * take turns (so that a slow spell of the shared machine hits all of them), and the median and
 * the spread are kept; a spread over 25% is flagged in the report.
 */
public final class Harness {
    private final List<String> devices;
    private final Consumer<String> progress;
    private final Map<String, Peaks> peaks = new LinkedHashMap<>();

    public Harness(List<String> devices, Consumer<String> progress) {
        this.devices = List.copyOf(devices);
        this.progress = progress;
    }

    public Map<String, Peaks> peaks() {
        return peaks;
    }

    /** Measures every device's peaks. */
    public List<Peaks> measurePeaks(int repeats) {
        List<Peaks> out = new ArrayList<>();
        for (String d : devices) {
            progress.accept("peaks on " + d);
            Peaks p;
            if (d.equals("cpu")) {
                p = CpuPeaks.measure(Backends.system().find("cpu").computeUnits(), repeats);
            } else if (d.startsWith("opencl:")) {
                p = ClPeaks.measure(Integer.parseInt(d.substring(7)), repeats);
            } else {
                continue;
            }
            peaks.put(d, p);
            out.add(p);
        }
        return out;
    }

    /** The single-op suite. */
    public List<Result> ops(List<Suites.OpWorkload> workloads, int rounds, int perRound) {
        List<Result> out = new ArrayList<>();
        for (Suites.OpWorkload w : workloads) {
            progress.accept(w.name());
            Map<String, OpRunner> runners = new LinkedHashMap<>();
            Map<String, List<Double>> times = new HashMap<>();
            Map<String, float[]> outputs = new HashMap<>();
            try {
                for (String d : devices) {
                    OpRunner r = OpRunner.open(d, w.bench());
                    runners.put(d, r);
                    for (int i = 0; i < 2; i++) {
                        r.run();
                    }
                    outputs.put(d, r.output());
                    times.put(d, new ArrayList<>());
                }
                for (int round = 0; round < rounds; round++) {
                    for (String d : devices) {
                        OpRunner r = runners.get(d);
                        for (int i = 0; i < perRound; i++) {
                            long t0 = System.nanoTime();
                            r.run();
                            times.get(d).add((System.nanoTime() - t0) / 1e6);
                        }
                    }
                }
            } finally {
                runners.values().forEach(OpRunner::close);
            }
            long flops = w.bench().flops();
            long bytes = w.bench().bytes();
            float[] ref = outputs.get("cpu");
            for (String d : devices) {
                Stats s = Stats.of(times.get(d));
                double sec = s.median() / 1e3;
                double gflops = flops / sec / 1e9;
                double gbs = bytes / sec / 1e9;
                double ai = (double) flops / bytes;
                double err = ref == null || d.equals("cpu") ? Double.NaN : maxRelDiff(outputs.get(d), ref);
                out.add(new Result("ops", w.name(), d, s, flops == 0 ? Double.NaN : gflops, gbs,
                        percentOfRoofline(d, flops, bytes, sec), ai, err, w.family()));
            }
        }
        return out;
    }

    /** Achieved rate over the device's roofline bound at this intensity, in percent (NaN without peaks). */
    double percentOfRoofline(String device, long flops, long bytes, double seconds) {
        Peaks p = peaks.get(device);
        if (p == null) {
            return Double.NaN;
        }
        double peakFlops = p.fmaGflops().median() * 1e9;
        double bw = p.copyGBs().median() * 1e9;
        if (flops == 0) {
            return 100 * (bytes / seconds) / bw;
        }
        double bound = Math.min(peakFlops, (double) flops / bytes * bw);
        return 100 * (flops / seconds) / bound;
    }

    private static double maxRelDiff(float[] y, float[] ref) {
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < y.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs((double) y[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            if (Float.isNaN(y[i])) {
                return Double.NaN;
            }
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    /**
     * Whole models at each batch size: latency percentiles over {@code runs} inferences, images
     * per second at the median, % of the device's peak FMA rate, and memory predicted by the
     * planner vs measured by the allocator (planned mode: arena + parameters).
     */
    public List<Result> models(List<Suites.ModelWorkload> workloads, int runs) {
        List<Result> out = new ArrayList<>();
        for (Suites.ModelWorkload w : workloads) {
            for (int batch : w.batches()) {
                Graph g = w.graph().apply(batch);
                Allocator host = Allocator.root("bench host");
                try (Model m = Model.withRandomParameters(g, 3);
                        Tensor x = Tensor.allocate(g.inputShape(), DType.F32, host, "x").fillUniform(4, -1f, 1f)) {
                    for (String d : devices) {
                        progress.accept(w.name() + " batch " + batch + " on " + d);
                        try (Device dev = Backends.system().open(d);
                                Session s = Session.open(m, dev, ExecutionMode.PLANNED)) {
                            s.run(x, RunOptions.DEFAULT.withHostAllocator(host)).close();
                            List<Double> ms = new ArrayList<>();
                            for (int i = 0; i < runs; i++) {
                                long t0 = System.nanoTime();
                                try (InferenceResult r = s.run(x, RunOptions.DEFAULT.withHostAllocator(host))) {
                                    ms.add((System.nanoTime() - t0) / 1e6);
                                }
                            }
                            Stats st = Stats.of(ms);
                            long predicted = Footprint.of(g, DType.F32, Optimizer.SGD, dev.viewAlignment()).inferencePlanned();
                            long measured = s.allocator().peakBytes();
                            double sec = st.median() / 1e3;
                            String detail = String.format(Locale.ROOT,
                                    "images/s %.1f; p50 %.2f ms, p99 %.2f ms; memory predicted %d B, measured %d B",
                                    batch / sec, percentile(ms, 50), percentile(ms, 99), predicted, measured);
                            double gflops = g.flops() / sec / 1e9;
                            Peaks p = peaks.get(d);
                            double ofPeak = p == null ? Double.NaN : 100 * gflops / p.fmaGflops().median();
                            out.add(new Result("models", w.name() + " b" + batch, d, st, gflops, Double.NaN, ofPeak,
                                    Double.NaN, Double.NaN, detail));
                        }
                    }
                } finally {
                    host.close();
                }
            }
        }
        return out;
    }

    /** The p-th percentile (nearest rank). */
    static double percentile(List<Double> samples, double p) {
        double[] s = samples.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int rank = (int) Math.ceil(p / 100 * s.length);
        return s[Math.max(0, Math.min(s.length - 1, rank - 1))];
    }
}
