package org.convkit.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
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
 * One conv2d forward pass on one device, arguments already on the device, waiting for the
 * device before the call returns.
 *
 * <p>Run: {@code ./convkit jmh Conv2dBench} (every case on cpu and opencl:0), or e.g.
 * {@code ./convkit jmh Conv2dBench -p device=cpu -p case=seed_conv2}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class Conv2dBench {
    /** The seed network's three layers at batch 1, a ResNet-style 3x3 layer, and ResNet-50's conv shapes (W3*). */
    public static final Map<String, BenchCase> CASES = Map.of(
            "seed_conv1", BenchCase.of(Conv2d.builder(100).kernel(3).stride(2).padding(Padding.SAME).build(),
                    Shape.nchw(1, 3, 200, 300)),
            "seed_conv2", BenchCase.of(Conv2d.builder(200).kernel(3).stride(2).padding(Padding.SAME).build(),
                    Shape.nchw(1, 100, 100, 150)),
            "seed_conv3", BenchCase.of(Conv2d.builder(400).kernel(3).stride(2).padding(Padding.SAME).build(),
                    Shape.nchw(1, 200, 50, 75)),
            "resnet_3x3_64_56", BenchCase.of(Conv2d.builder(64).kernel(3).padding(Padding.SAME).bias(false).build(),
                    Shape.nchw(1, 64, 56, 56)),
            "W3a_3x3_64_56", BenchCase.of(Conv2d.builder(64).kernel(3).padding(Padding.SAME).bias(false).build(),
                    Shape.nchw(1, 64, 56, 56)),
            "W3b_3x3_256_14", BenchCase.of(Conv2d.builder(256).kernel(3).padding(Padding.SAME).bias(false).build(),
                    Shape.nchw(1, 256, 14, 14)),
            "W3c_1x1_256to64_56", BenchCase.of(Conv2d.builder(64).kernel(1).bias(false).build(),
                    Shape.nchw(1, 256, 56, 56)),
            "W3d_7x7s2_3to64_224", BenchCase.of(Conv2d.builder(64).kernel(7).stride(2).padding(Padding.SAME).bias(false)
                    .build(), Shape.nchw(1, 3, 224, 224)));

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"seed_conv1", "seed_conv2", "seed_conv3", "resnet_3x3_64_56", "W3a_3x3_64_56", "W3b_3x3_256_14",
            "W3c_1x1_256to64_56", "W3d_7x7s2_3to64_224"})
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
