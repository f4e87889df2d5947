package org.convkit.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Lrn;
import org.convkit.tensor.Shape;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One LRN forward pass on one device, input already on the device, waiting for the device before
 * the call returns. LRN moves little data per FLOP: read GB/s (input + output once each).
 *
 * <p>Run: {@code ./convkit jmh LrnBench} (every case on cpu and opencl:0), or e.g.
 * {@code ./convkit jmh LrnBench -p device=cpu -p workload=alexnet_lrn1}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class LrnBench {
    /**
     * AlexNet's two LRN layers (after conv1: 96x55x55; after conv2: 256x27x27) with its
     * parameters (n 5, alpha 1e-4, beta 0.75, k 2) in ONNX terms, the first also in TensorFlow
     * terms (the paper's undivided alpha, the same work), and GoogLeNet's first (Caffe's k = 1).
     */
    public static final Map<String, BenchCase> CASES = Map.of(
            "alexnet_lrn1", BenchCase.of(Lrn.onnx(5, 1e-4f, 0.75f, 2f), Shape.nchw(1, 96, 55, 55)),
            "alexnet_lrn1_tf", BenchCase.of(Lrn.tensorflow(2, 2f, 1e-4f, 0.75f), Shape.nchw(1, 96, 55, 55)),
            "alexnet_lrn2", BenchCase.of(Lrn.onnx(5, 1e-4f, 0.75f, 2f), Shape.nchw(1, 256, 27, 27)),
            "googlenet_lrn1", BenchCase.of(Lrn.onnx(5, 1e-4f, 0.75f, 1f), Shape.nchw(1, 64, 56, 56)));

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"alexnet_lrn1", "alexnet_lrn1_tf", "alexnet_lrn2", "googlenet_lrn1"})
    public String workload;

    private OpRunner runner;

    @Setup(Level.Trial)
    public void setUp() {
        runner = OpRunner.open(device, CASES.get(workload));
    }

    @Benchmark
    public DeviceBuffer forward() {
        return runner.run();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        runner.close();
    }
}
