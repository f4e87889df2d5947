package org.convkit.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Upsample;
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
 * One upsample forward pass on one device, input already on the device, waiting for the device
 * before the call returns. Upsampling is memory-bound: read GB/s (input + output once each);
 * nearest has no FLOPs.
 *
 * <p>Run: {@code ./convkit jmh UpsampleBench} (every case on cpu and opencl:0), or e.g.
 * {@code ./convkit jmh UpsampleBench -p device=cpu -p workload=fpn_nearest2x_256_56}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class UpsampleBench {
    /**
     * Batch 1: an FPN top-down nearest 2x (256 channels, 56x56 -> 112x112), a U-Net-style bilinear
     * 2x (64 channels, half_pixel), DeepLab's final bilinear resize of 21 class maps 65x65 ->
     * 513x513 (align_corners, explicit size), and a fractional bilinear 1.5x.
     */
    public static final Map<String, BenchCase> CASES = Map.of(
            "fpn_nearest2x_256_56", BenchCase.of(Upsample.nearest(2), Shape.nchw(1, 256, 56, 56)),
            "unet_bilinear2x_64_56", BenchCase.of(Upsample.bilinear(2), Shape.nchw(1, 64, 56, 56)),
            "deeplab_bilinear_21_65_513", BenchCase.of(Upsample.builder(Upsample.Mode.BILINEAR).size(513, 513)
                    .coordinates(Upsample.Coordinates.ALIGN_CORNERS).build(), Shape.nchw(1, 21, 65, 65)),
            "bilinear1.5x_128_40", BenchCase.of(Upsample.bilinear(1.5f), Shape.nchw(1, 128, 40, 40)));

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"fpn_nearest2x_256_56", "unet_bilinear2x_64_56", "deeplab_bilinear_21_65_513", "bilinear1.5x_128_40"})
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
