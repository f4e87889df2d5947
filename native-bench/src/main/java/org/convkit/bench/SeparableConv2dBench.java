package org.convkit.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Activation;
import org.convkit.ops.SeparableConv2d;
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
 * One fused sepconv2d forward pass on one device, arguments already on the device, waiting for the
 * device before the call returns.
 *
 * <p>Run: {@code ./convkit jmh SeparableConv2dBench} (every case on cpu and opencl:0), or e.g.
 * {@code ./convkit jmh SeparableConv2dBench -p device=cpu -p workload=xception_728_19}.
 * {@code -p cpuPath=direct} prepares the CPU kernel on its direct loops (the baseline).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class SeparableConv2dBench {
    /** Xception's middle flow (728 channels at 19x19) and a MobileNet-style 512-channel layer at 14x14. */
    public static final Map<String, BenchCase> CASES = Map.of(
            "xception_728_19", BenchCase.of(SeparableConv2d.builder(728).build(), Shape.nchw(1, 728, 19, 19)),
            "mobilenet_512_14", BenchCase.of(SeparableConv2d.builder(512).between(Activation.RELU)
                    .activation(Activation.RELU).build(), Shape.nchw(1, 512, 14, 14)));

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"xception_728_19", "mobilenet_512_14"})
    public String workload;

    /** {@code auto}: the CPU backend's choice of path; {@code direct}: its direct loops. */
    @Param({"auto"})
    public String cpuPath;

    private OpRunner runner;

    @Setup(Level.Trial)
    public void setUp() {
        runner = OpRunner.open(device, CASES.get(workload), cpuPath);
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
