package org.convkit.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.ActivationOp;
import org.convkit.ops.PRelu;
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
 * One standalone activation (or PReLU) on one device, input already on the device, waiting for
 * the device before the call returns. Element-wise ops are memory-bound: read GB/s (input and
 * output once each, plus PReLU's slopes).
 *
 * <p>Run: {@code ./convkit jmh ActivationBench} (every case on cpu and opencl:0), or e.g.
 * {@code ./convkit jmh ActivationBench -p device=opencl:0 -p workload=relu_64x112x112}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class ActivationBench {
    /**
     * ResNet-50's stem output (64x112x112) through each activation; MobileNetV2's ReLU6 (a clip
     * to [0, 6]) on its 32x112x112 stem; an SE block's sigmoid gate is too small to measure, so
     * sigmoid runs on the stem too.
     */
    public static final Map<String, BenchCase> CASES = Map.of(
            "relu_64x112x112", BenchCase.of(ActivationOp.relu(), Shape.nchw(1, 64, 112, 112)),
            "leaky_relu_64x112x112", BenchCase.of(ActivationOp.leakyRelu(), Shape.nchw(1, 64, 112, 112)),
            "sigmoid_64x112x112", BenchCase.of(ActivationOp.sigmoid(), Shape.nchw(1, 64, 112, 112)),
            "tanh_64x112x112", BenchCase.of(ActivationOp.tanh(), Shape.nchw(1, 64, 112, 112)),
            "hard_sigmoid_64x112x112", BenchCase.of(ActivationOp.hardSigmoid(), Shape.nchw(1, 64, 112, 112)),
            "relu6_32x112x112", BenchCase.of(ActivationOp.clip(0f, 6f), Shape.nchw(1, 32, 112, 112)),
            "prelu_64x112x112", BenchCase.of(PRelu.perChannel(64), Shape.nchw(1, 64, 112, 112)));

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"relu_64x112x112", "leaky_relu_64x112x112", "sigmoid_64x112x112", "tanh_64x112x112",
            "hard_sigmoid_64x112x112", "relu6_32x112x112", "prelu_64x112x112"})
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
