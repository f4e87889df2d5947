package org.convkit.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Softmax;
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
 * One softmax on one device, input already on the device, waiting for the device before the call
 * returns. Memory-bound: read GB/s (input and output once each; the kernels read a row up to three
 * times, from cache for classifier rows).
 *
 * <p>Run: {@code ./convkit jmh SoftmaxBench} (every case on cpu and opencl:0), or e.g.
 * {@code ./convkit jmh SoftmaxBench -p device=cpu -p workload=classes1000_b64}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class SoftmaxBench {
    /**
     * An ImageNet classifier's 1000 classes at batch 1 and 64 (contiguous rows), and an FCN
     * segmentation head's per-pixel softmax over 21 PASCAL VOC classes on 224x224 (axis 1: rows
     * strided by the image size).
     */
    public static final Map<String, BenchCase> CASES = Map.of(
            "classes1000_b1", BenchCase.of(Softmax.lastAxis(), Shape.of(1, 1000)),
            "classes1000_b64", BenchCase.of(Softmax.lastAxis(), Shape.of(64, 1000)),
            "fcn_voc21_224", BenchCase.of(Softmax.of(1), Shape.nchw(1, 21, 224, 224)));

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"classes1000_b1", "classes1000_b64", "fcn_voc21_224"})
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
