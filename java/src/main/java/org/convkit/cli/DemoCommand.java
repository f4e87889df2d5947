package org.convkit.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.exec.InferenceResult;
import org.convkit.exec.RunOptions;
import org.convkit.exec.Session;
import org.convkit.graph.Layer;
import org.convkit.graph.Model;
import org.convkit.graph.SeedNet;
import org.convkit.memory.Allocator;
import org.convkit.memory.Bytes;
import org.convkit.tensor.Compare;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * {@code convkit demo}: the seed network with random weights on every device found. Prints per
 * layer the output shape, the parameters, the median time per device and the largest relative
 * difference between devices; then the device memory each one used. Exit status 1 if two
 * devices disagree beyond {@link #TOLERANCE}.
 */
final class DemoCommand {
    static final List<String> OPTIONS = List.of("device", "batch", "runs", "seed");
    /** Warm-up runs at most per device (a batch-1 seed pass takes milliseconds). */
    private static final int WARMUP_RUNS_MAX = 200;
    /** Largest accepted max|a - b| / max|b| between two devices' outputs of one layer. */
    static final double TOLERANCE = 1e-4;

    private final Options options;

    DemoCommand(Options options) {
        this.options = options;
    }

    /** One device's results: per-layer median ms, captured layer outputs, memory peak. */
    private record DeviceRun(String device, double[] medianMs, double totalMs, List<Tensor> outputs, long peakBytes,
            long activationPeak) {
    }

    int run(PrintStream out) {
        int batch = options.intValue("batch", 1, 1, 4096);
        int runs = options.intValue("runs", 3, 1, 1000);
        long seed = options.longValue("seed", 42);
        Backends backends = Backends.system();
        List<DeviceInfo> targets = selectDevices(backends);

        Allocator host = Allocator.host().child("demo");
        List<DeviceRun> results = new ArrayList<>();
        try (Model model = SeedNet.build(batch, seed);
                Tensor input = Tensor.allocate(model.inputShape(), DType.F32, host, "input")) {
            input.fillUniform(seed + 1, -1f, 1f);
            out.printf(Locale.ROOT, "convkit demo: the seed network (3 conv layers, 3x3, stride 2, SAME, ReLU) on %d random "
                    + "RGB %dx%d image%s, random weights (seed %d)%n", batch, SeedNet.HEIGHT, SeedNet.WIDTH,
                    batch == 1 ? "" : "s", seed);
            for (DeviceInfo d : targets) {
                out.println("device " + d.describe());
            }
            backends.unavailable().forEach((b, why) -> out.println("unavailable " + b + ": " + why));
            out.println();
            for (DeviceInfo d : targets) {
                results.add(runOn(backends, d, model, input, runs, host));
            }
            printTable(out, model, results, runs);
            return printVerdict(out, model, results);
        } finally {
            results.forEach(r -> r.outputs().forEach(Tensor::close));
            host.close();
        }
    }

    private List<DeviceInfo> selectDevices(Backends backends) {
        String sel = options.get("device", "");
        if (sel.isBlank()) {
            if (backends.devices().isEmpty()) {
                throw new Options.UsageException("no device found: " + backends.unavailable());
            }
            return backends.devices();
        }
        List<DeviceInfo> out = new ArrayList<>();
        for (String s : sel.split(",")) {
            try {
                DeviceInfo d = backends.find(s);
                if (!out.contains(d)) {
                    out.add(d);
                }
            } catch (IllegalArgumentException e) {
                throw new Options.UsageException(e.getMessage());
            }
        }
        return out;
    }

    private static DeviceRun runOn(Backends backends, DeviceInfo info, Model model, Tensor input, int runs, Allocator host) {
        int layers = model.layers().size();
        double[][] ms = new double[layers][runs];
        double[] total = new double[runs];
        List<Tensor> captured = new ArrayList<>();
        try (Device device = backends.open(info.name()); Session session = Session.open(model, device)) {
            // Warm-up: first launches, fresh memory touched, and the CPU backend's vector kernels
            // compiled (they run interpreted for the first few calls): at least 3 runs and 1 s.
            long start = System.nanoTime();
            for (int k = 0; k < WARMUP_RUNS_MAX && (k < 3 || System.nanoTime() - start < 1_000_000_000L); k++) {
                session.run(input, RunOptions.DEFAULT.withHostAllocator(host)).close();
            }
            RunOptions timed = RunOptions.DEFAULT.withHostAllocator(host).withLayerTimings(true);
            for (int k = 0; k < runs; k++) {
                InferenceResult r = session.run(input, k == 0 ? timed.withCaptureLayers(true) : timed);
                try {
                    for (int i = 0; i < layers; i++) {
                        ms[i][k] = r.layers().get(i).nanos() / 1e6;
                        total[k] += ms[i][k];
                    }
                    if (k == 0) {
                        r.layers().forEach(lr -> captured.add(lr.output()));
                    }
                } finally {
                    if (k != 0) {
                        r.close();
                    }
                }
            }
            double[] med = new double[layers];
            for (int i = 0; i < layers; i++) {
                med[i] = median(ms[i]);
            }
            Allocator a = session.allocator();
            return new DeviceRun(info.name(), med, median(total), captured, a.peakBytes(),
                    a.peakBytes() - model.parameterBytes(DType.F32));
        } catch (RuntimeException e) {
            captured.forEach(Tensor::close);
            throw e;
        }
    }

    private static void printTable(PrintStream out, Model model, List<DeviceRun> results, int runs) {
        List<String> header = new ArrayList<>(List.of("layer", "output HxWxC", "NCHW", "params"));
        results.forEach(r -> header.add(r.device() + " ms"));
        if (results.size() > 1) {
            header.add("max rel diff");
        }
        Table t = new Table(header.toArray(String[]::new));
        Shape in = model.inputShape();
        List<String> inputRow = new ArrayList<>(List.of("input", hwc(in), in.toString(), "-"));
        results.forEach(r -> inputRow.add("-"));
        if (results.size() > 1) {
            inputRow.add("-");
        }
        t.row(inputRow.toArray(String[]::new));
        List<Layer> layers = model.layers();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            List<String> row = new ArrayList<>(List.of(l.name(), hwc(l.outputShape()), l.outputShape().toString(),
                    String.format(Locale.ROOT, "%,d", l.parameterCount())));
            for (DeviceRun r : results) {
                row.add(String.format(Locale.ROOT, "%.2f", r.medianMs()[i]));
            }
            if (results.size() > 1) {
                row.add(String.format(Locale.ROOT, "%.1e", maxDiff(results, i)));
            }
            t.row(row.toArray(String[]::new));
        }
        List<String> total = new ArrayList<>(List.of("total", "", "", String.format(Locale.ROOT, "%,d", model.parameterCount())));
        for (DeviceRun r : results) {
            total.add(String.format(Locale.ROOT, "%.2f", r.totalMs()));
        }
        if (results.size() > 1) {
            total.add("");
        }
        t.row(total.toArray(String[]::new));
        t.print(out);
        out.printf(Locale.ROOT, "%ntimes: median of %d run%s after a warm-up of at least 1 s, each layer waited for; %s GFLOP per pass%n",
                runs, runs == 1 ? "" : "s", String.format(Locale.ROOT, "%.2f", model.flops() / 1e9));
        if (results.size() > 1) {
            out.println("max rel diff: max |y - y_" + results.get(0).device() + "| / max |y_" + results.get(0).device()
                    + "| over each layer's output, the largest over the other devices");
        }
    }

    private static int printVerdict(PrintStream out, Model model, List<DeviceRun> results) {
        out.println();
        out.println("device memory (measured by the allocator, activations freed after their last reader):");
        long params = model.parameterBytes(DType.F32);
        for (DeviceRun r : results) {
            out.printf(Locale.ROOT, "  %-10s peak %s = parameters %s + activations %s%n", r.device(),
                    Bytes.format(r.peakBytes()), Bytes.format(params), Bytes.format(r.activationPeak()));
        }
        if (results.size() < 2) {
            out.println("\none device only: nothing to compare");
            return 0;
        }
        double worst = 0;
        for (int i = 0; i < model.layers().size(); i++) {
            double d = maxDiff(results, i);
            worst = Double.isNaN(d) ? Double.NaN : Math.max(worst, d);
        }
        boolean ok = worst <= TOLERANCE;
        out.printf(Locale.ROOT, "%ndevices %s: largest relative difference %.1e (tolerance %.0e)%n",
                ok ? "agree" : "DISAGREE", worst, TOLERANCE);
        return ok ? 0 : 1;
    }

    private static double maxDiff(List<DeviceRun> results, int layer) {
        Tensor ref = results.get(0).outputs().get(layer);
        double worst = 0;
        for (DeviceRun r : results.subList(1, results.size())) {
            double d = Compare.maxRelativeDifference(r.outputs().get(layer), ref);
            if (Double.isNaN(d)) {
                return Double.NaN;
            }
            worst = Math.max(worst, d);
        }
        return worst;
    }

    private static String hwc(Shape s) {
        return s.h() + "x" + s.w() + "x" + s.c();
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
