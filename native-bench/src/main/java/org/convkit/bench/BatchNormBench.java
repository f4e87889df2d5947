package org.convkit.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.BatchNorm;
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
 * One batch normalization (inference) on one device, arguments already on the device, waiting
 * for the device before the call returns. Memory-bound: GB/s (input read + output written) is
 * the figure to watch.
 *
 * <p>Run: {@code ./convkit jmh BatchNormBench}, or e.g.
 * {@code ./convkit jmh BatchNormBench -p device=cpu -p workload=resnet50_bn1}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class BatchNormBench {
    /**
     * ResNet-50's first batch norm (after the 7x7 stem, 64x112x112), a late one (2048x7x7, small
     * planes), and one after a dense layer at batch 64 (rank 2).
     */
    public static final Map<String, BenchCase> CASES = Map.of(
            "resnet50_bn1", BenchCase.of(BatchNorm.create(), Shape.nchw(1, 64, 112, 112)),
            "resnet50_bn5c", BenchCase.of(BatchNorm.create(), Shape.nchw(1, 2048, 7, 7)),
            "dense_b64", BenchCase.of(BatchNorm.create(), Shape.of(64, 4096)));

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"resnet50_bn1", "resnet50_bn5c", "dense_b64"})
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
