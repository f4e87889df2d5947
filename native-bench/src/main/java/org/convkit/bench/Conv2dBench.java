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
 * {@code ./convkit jmh Conv2dBench -p device=cpu -p workload=seed_conv2}. {@code -p cpuPath=direct}
 * prepares the CPU kernels on their direct loops (the baseline of the fast paths; see
 * {@link CpuConvCompare} for both in one process).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class Conv2dBench {
    /**
     * The seed network's three layers at batch 1, and layers of common networks at batch 1
     * without bias: W3a, W3b ResNet 3x3 layers (64 maps at 56x56, 256 at 14x14), W3c a ResNet 1x1
     * bottleneck reduction (256 to 64 at 56x56), W3d ResNet's 7x7 stride-2 stem (RGB 224x224 to 64,
     * pads 3), W4a, W4b Xception's middle flow as two convolutions (3x3 depthwise and 1x1 over
     * 728 channels at 19x19).
     */
    public static final Map<String, BenchCase> CASES = Map.of(
            "seed_conv1", BenchCase.of(Conv2d.builder(100).kernel(3).stride(2).padding(Padding.SAME).build(),
                    Shape.nchw(1, 3, 200, 300)),
            "seed_conv2", BenchCase.of(Conv2d.builder(200).kernel(3).stride(2).padding(Padding.SAME).build(),
                    Shape.nchw(1, 100, 100, 150)),
            "seed_conv3", BenchCase.of(Conv2d.builder(400).kernel(3).stride(2).padding(Padding.SAME).build(),
                    Shape.nchw(1, 200, 50, 75)),
            "W3a", BenchCase.of(Conv2d.builder(64).kernel(3).padding(Padding.SAME).bias(false).build(),
                    Shape.nchw(1, 64, 56, 56)),
            "W3b", BenchCase.of(Conv2d.builder(256).kernel(3).padding(Padding.SAME).bias(false).build(),
                    Shape.nchw(1, 256, 14, 14)),
            "W3c", BenchCase.of(Conv2d.builder(64).kernel(1).bias(false).build(), Shape.nchw(1, 256, 56, 56)),
            "W3d", BenchCase.of(Conv2d.builder(64).kernel(7).stride(2).padding(Padding.explicit(3)).bias(false).build(),
                    Shape.nchw(1, 3, 224, 224)),
            "W4a", BenchCase.of(Conv2d.builder(728).kernel(3).groups(728).padding(Padding.SAME).bias(false).build(),
                    Shape.nchw(1, 728, 19, 19)),
            "W4b", BenchCase.of(Conv2d.builder(728).kernel(1).bias(false).build(), Shape.nchw(1, 728, 19, 19)));

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"seed_conv1", "seed_conv2", "seed_conv3", "W3a", "W3b", "W3c", "W3d", "W4a", "W4b"})
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
