package org.convkit.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Concat;
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
 * One concat on one device, arguments already on the device, waiting for the device before the
 * call returns. A pure copy: read the GB/s column (inputs and output once each).
 *
 * <p>Run: {@code ./convkit jmh ConcatBench} (every case on cpu and opencl:0), or e.g.
 * {@code ./convkit jmh ConcatBench -p device=cpu -p workload=inception3a_out_28}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class ConcatBench {
    /**
     * GoogLeNet's inception (3a) output: the 1x1 (64), 3x3 (128), 5x5 (32) and pool-projection (32)
     * branches joined on channels at 28x28; and inception (4a) at 14x14 (192 + 208 + 48 + 64).
     */
    public static final Map<String, BenchCase> CASES = Map.of(
            "inception3a_out_28", BenchCase.of(Concat.of(1), Shape.nchw(1, 64, 28, 28), Shape.nchw(1, 128, 28, 28),
                    Shape.nchw(1, 32, 28, 28), Shape.nchw(1, 32, 28, 28)),
            "inception4a_out_14", BenchCase.of(Concat.of(1), Shape.nchw(1, 192, 14, 14), Shape.nchw(1, 208, 14, 14),
                    Shape.nchw(1, 48, 14, 14), Shape.nchw(1, 64, 14, 14)));

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"inception3a_out_28", "inception4a_out_14"})
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
