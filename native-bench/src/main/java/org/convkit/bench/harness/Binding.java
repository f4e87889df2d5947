package org.convkit.bench.harness;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.convkit.bench.BenchCase;
import org.convkit.graph.SeedNet;
import org.convkit.ops.ActivationOp;
import org.convkit.ops.Dense;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.ops.SqueezeExcite;
import org.convkit.tensor.Shape;

/** The binding-overhead cases: a launch-latency case, then ops from 0.1 ms to above 1 ms, one of several launches. */
final class Binding {
    static final Map<String, BenchCase> CASES = cases();

    private Binding() {
    }

    private static Map<String, BenchCase> cases() {
        Map<String, BenchCase> m = new LinkedHashMap<>();
        m.put("launch_relu_1", BenchCase.of(ActivationOp.relu(), Shape.of(1)));
        m.put("relu_64x112x112", BenchCase.of(ActivationOp.relu(), Shape.nchw(1, 64, 112, 112)));
        m.put("maxpool3s2_64_112", BenchCase.of(Pool2d.max(3).stride(2).padding(Padding.explicit(1)).build(),
                Shape.nchw(1, 64, 112, 112)));
        m.put("se_256_56 (4 launches)", BenchCase.of(SqueezeExcite.of(16), Shape.nchw(1, 256, 56, 56)));
        m.put("dense_alexnet_fc6", BenchCase.of(Dense.linear(4096, true, org.convkit.ops.Activation.NONE),
                Shape.of(1, 9216)));
        var conv2 = SeedNet.graph(1).layers().get(1);
        m.put("seed_conv2", new BenchCase(conv2.op(), conv2.inputShapes()));
        return m;
    }

    static List<BindingOverhead.Result> run(List<String> devices, int rounds, int iterations, Consumer<String> progress) {
        BindingOverhead b = BindingOverhead.prepare(Path.of(System.getProperty("java.io.tmpdir"), "convkit-bench-"
                + ProcessHandle.current().pid()));
        List<BindingOverhead.Result> out = new ArrayList<>();
        for (String d : devices) {
            for (Map.Entry<String, BenchCase> e : CASES.entrySet()) {
                progress.accept("binding " + e.getKey() + " on " + d);
                int its = e.getKey().startsWith("seed") || e.getKey().startsWith("dense") ? Math.max(3, iterations / 5)
                        : iterations;
                BindingOverhead.Result r = b.measure(d, e.getKey().replaceAll("[^A-Za-z0-9_]", "_"), e.getValue(), rounds, its);
                out.add(new BindingOverhead.Result(e.getKey() + " on " + d, r.launches(), r.java(), r.c()));
            }
        }
        return out;
    }
}
