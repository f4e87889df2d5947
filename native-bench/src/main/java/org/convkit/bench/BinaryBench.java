package org.convkit.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Activation;
import org.convkit.ops.Binary;
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
 * One add or mul on one device, arguments already on the device, waiting for the device before
 * the call returns. Element-wise ops are bound by memory: read the GB/s column (a, b and y once
 * each).
 *
 * <p>Run: {@code ./convkit jmh BinaryBench} (every case on cpu and opencl:0), or e.g.
 * {@code ./convkit jmh BinaryBench -p device=cpu -p workload=resnet_add_relu_256_56}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class BinaryBench {
    /**
     * ResNet-50's residual add + ReLU at the end of a conv2_x unit (the equal-shape fast path), and
     * SE-ResNet-50's channel scale at the same size (the broadcast path).
     */
    public static final Map<String, BenchCase> CASES = Map.of(
            "resnet_add_relu_256_56", BenchCase.of(Binary.add(Activation.RELU), Shape.nchw(1, 256, 56, 56),
                    Shape.nchw(1, 256, 56, 56)),
            "se_scale_256_56", BenchCase.of(Binary.mul(), Shape.nchw(1, 256, 56, 56), Shape.nchw(1, 256, 1, 1)));

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"resnet_add_relu_256_56", "se_scale_256_56"})
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
