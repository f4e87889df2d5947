package org.convkit.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.GlobalPool2d;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
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
 * One pooling forward pass (maxpool2d, avgpool2d, globalavgpool2d) on one device, input already
 * on the device, waiting for the device before the call returns. Pooling is bound by memory
 * traffic, so the figure to read is the GB/s of the summary (input + output bytes once each,
 * from the descriptor); its GFLOP/s counts one operation per window element read.
 *
 * <p>Run: {@code ./convkit jmh Pool2dBench} (every case on cpu and opencl:0), or e.g.
 * {@code ./convkit jmh Pool2dBench -p device=opencl:0 -p workload=resnet50_maxpool}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class Pool2dBench {
    /** Pooling layers of real CNNs at batch 1. */
    public static final Map<String, BenchCase> CASES = Map.of(
            // ResNet-50 stem: 3x3 stride 2, pad 1, 112 -> 56.
            "resnet50_maxpool", BenchCase.of(Pool2d.max(3).stride(2).padding(Padding.explicit(1)).build(),
                    Shape.nchw(1, 64, 112, 112)),
            // AlexNet's first overlapping pool: 3x3 stride 2, valid, 55 -> 27.
            "alexnet_maxpool1", BenchCase.of(Pool2d.max(3).stride(2).build(), Shape.nchw(1, 96, 55, 55)),
            // Xception entry flow, block 2: 3x3 stride 2, same, 147 -> 74.
            "xception_maxpool", BenchCase.of(Pool2d.max(3).stride(2).padding(Padding.SAME).build(),
                    Shape.nchw(1, 128, 147, 147)),
            // Inception-v3 Mixed_5b pooling branch: 3x3 stride 1 same average, padding excluded.
            "inception_avgpool", BenchCase.of(Pool2d.avg(3).padding(Padding.SAME).build(), Shape.nchw(1, 192, 35, 35)),
            // ResNet-50 head: global average of 2048 planes of 7x7.
            "resnet50_globalavg", BenchCase.of(GlobalPool2d.avg(), Shape.nchw(1, 2048, 7, 7)),
            // SE block squeeze on SE-ResNet-50's first stage: 256 planes of 56x56.
            "senet_squeeze_56", BenchCase.of(GlobalPool2d.avg(), Shape.nchw(1, 256, 56, 56)));

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"resnet50_maxpool", "alexnet_maxpool1", "xception_maxpool", "inception_avgpool", "resnet50_globalavg",
            "senet_squeeze_56"})
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
