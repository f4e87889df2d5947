package org.convkit.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.ConvTranspose2d;
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
 * One conv_transpose2d forward pass on one device, arguments already on the device, waiting for
 * the device before the call returns. GFLOP/s count only the multiply-adds that land inside the
 * output (see {@link ConvTranspose2d}).
 *
 * <p>Run: {@code ./convkit jmh ConvTranspose2dBench} (every case on cpu and opencl:0), or e.g.
 * {@code ./convkit jmh ConvTranspose2dBench -p device=cpu -p workload=fcn_upscore2_21_16}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class ConvTranspose2dBench {
    /**
     * Segmentation and generator layers at batch 1: FCN-8s' upscore2 (21 classes, 16x16 -> 34x34)
     * and upscore8 (70x70 -> 568x568), a U-Net up-convolution (64 -> 32 channels, 56x56 ->
     * 112x112) and a DCGAN generator layer (512 -> 256 channels, 8x8 -> 16x16).
     */
    public static final Map<String, BenchCase> CASES = Map.of(
            "fcn_upscore2_21_16", BenchCase.of(ConvTranspose2d.builder(21).kernel(4).stride(2).bias(false).build(),
                    Shape.nchw(1, 21, 16, 16)),
            "fcn_upscore8_21_70", BenchCase.of(ConvTranspose2d.builder(21).kernel(16).stride(8).bias(false).build(),
                    Shape.nchw(1, 21, 70, 70)),
            "unet_up_64_32_56", BenchCase.of(ConvTranspose2d.builder(32).kernel(2).stride(2).build(),
                    Shape.nchw(1, 64, 56, 56)),
            "dcgan_512_256_8", BenchCase.of(ConvTranspose2d.builder(256).kernel(4).stride(2)
                    .padding(Padding.explicit(1)).build(), Shape.nchw(1, 512, 8, 8)));

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"fcn_upscore2_21_16", "fcn_upscore8_21_70", "unet_up_64_32_56", "dcgan_512_256_8"})
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
