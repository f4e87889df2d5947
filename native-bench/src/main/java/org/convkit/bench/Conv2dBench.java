package org.convkit.bench;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.memory.Allocator;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
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
 * One conv2d forward pass on one device, inputs and weights already on the device, waiting for
 * the device before the call returns. FLOPs per call come from the {@link Conv2d} descriptor;
 * {@link BenchMain} prints GFLOP/s next to JMH's times.
 *
 * <p>Run: {@code ./convkit jmh Conv2dBench} (all cases on cpu and opencl:0), or e.g.
 * {@code ./convkit jmh Conv2dBench -p device=cpu -p layer=seed_conv2}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class Conv2dBench {
    /** A benchmark case: an op and the input it runs on. */
    record Case(Conv2d conv, Shape input) {
        long flops() {
            return conv.flops(input);
        }
    }

    /** The cases by name: the seed network's three layers at batch 1, and a ResNet-style 3x3 layer. */
    static final Map<String, Case> CASES = Map.of(
            "seed_conv1", new Case(Conv2d.builder(100).kernel(3).stride(2).padding(Padding.SAME).build(),
                    Shape.nchw(1, 3, 200, 300)),
            "seed_conv2", new Case(Conv2d.builder(200).kernel(3).stride(2).padding(Padding.SAME).build(),
                    Shape.nchw(1, 100, 100, 150)),
            "seed_conv3", new Case(Conv2d.builder(400).kernel(3).stride(2).padding(Padding.SAME).build(),
                    Shape.nchw(1, 200, 50, 75)),
            "resnet_3x3_64_56", new Case(Conv2d.builder(64).kernel(3).padding(Padding.SAME).bias(false).build(),
                    Shape.nchw(1, 64, 56, 56)));

    @Param({"cpu", "opencl:0"})
    public String device;

    @Param({"seed_conv1", "seed_conv2", "seed_conv3", "resnet_3x3_64_56"})
    public String layer;

    private Device dev;
    private Kernel kernel;
    private List<DeviceBuffer> args;
    private DeviceBuffer out;

    @Setup(Level.Trial)
    public void setUp() {
        Case c = CASES.get(layer);
        dev = Backends.system().open(device);
        kernel = dev.prepare(c.conv(), List.of(c.input()));
        List<Shape> shapes = kernel.argumentShapes();
        DeviceBuffer[] bufs = new DeviceBuffer[shapes.size()];
        for (int i = 0; i < bufs.length; i++) {
            try (Tensor t = Tensor.allocate(shapes.get(i), DType.F32, Allocator.host(), "bench arg " + i)) {
                t.fillUniform(1234 + i, -1f, 1f);
                bufs[i] = dev.allocate(t.byteSize(), "arg" + i);
                dev.upload(t, bufs[i]);
            }
        }
        args = List.of(bufs);
        out = dev.allocate(kernel.outputShape().byteSize(DType.F32), "output");
    }

    @Benchmark
    public DeviceBuffer forward() {
        kernel.run(args, out);
        dev.synchronize();
        return out;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        out.close();
        args.forEach(DeviceBuffer::close);
        kernel.close();
        dev.close();
    }
}
