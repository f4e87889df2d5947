package org.convkit.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.SqueezeExcite;
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
 * One squeeze-and-excitation block (all four steps) on one device, arguments and workspace
 * already on the device, waiting for the device before the call returns. Bound by the two
 * passes over x: read the GB/s column (x twice, parameters and y once).
 *
 * <p>Run: {@code ./convkit jmh SqueezeExciteBench} (every case on cpu and opencl:0), or e.g.
 * {@code ./convkit jmh SqueezeExciteBench -p device=cpu -p workload=se_resnet50_256_56}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class SqueezeExciteBench {
    /** SE-ResNet-50's first (C = 256 at 56x56) and last (C = 2048 at 7x7) SE blocks, r = 16. */
    public static final Map<String, BenchCase> CASES = Map.of(
            "se_resnet50_256_56", BenchCase.of(SqueezeExcite.of(16), Shape.nchw(1, 256, 56, 56)),
            "se_resnet50_2048_7", BenchCase.of(SqueezeExcite.of(16), Shape.nchw(1, 2048, 7, 7)));

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"se_resnet50_256_56", "se_resnet50_2048_7"})
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
