package org.convkit.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Activation;
import org.convkit.ops.Dense;
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
 * One dense (Gemm) forward pass on one device, arguments already on the device, waiting for the
 * device before the call returns. At batch 1 a dense layer is a matrix-vector product bound by
 * reading the weights (GB/s is the figure to watch); at batch 64 it is a GEMM (GFLOP/s).
 *
 * <p>Run: {@code ./convkit jmh DenseBench} (every case on cpu and opencl:0), or e.g.
 * {@code ./convkit jmh DenseBench -p device=cpu -p workload=alexnet_fc6}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class DenseBench {
    /** AlexNet's fc6 (9216 -> 4096, ReLU) at batch 1; ResNet-50's classifier (2048 -> 1000) at batch 1 and 64. */
    public static final Map<String, BenchCase> CASES = Map.of(
            "alexnet_fc6", BenchCase.of(Dense.linear(9216, 4096, true, Activation.RELU), Shape.of(1, 9216)),
            "resnet50_fc", BenchCase.of(Dense.linear(2048, 1000, true, Activation.NONE), Shape.of(1, 2048)),
            "resnet50_fc_b64", BenchCase.of(Dense.linear(2048, 1000, true, Activation.NONE), Shape.of(64, 2048)));

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"alexnet_fc6", "resnet50_fc", "resnet50_fc_b64"})
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
