package org.convkit.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.convkit.ConvkitException;
import org.convkit.backend.AbstractDevice;
import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.FaultInjection;
import org.convkit.backend.Kernel;
import org.convkit.cli.Main;
import org.convkit.exec.ExecutionMode;
import org.convkit.exec.FallbackSession;
import org.convkit.exec.Session;
import org.convkit.graph.Graph;
import org.convkit.graph.Model;
import org.convkit.graph.Node;
import org.convkit.graph.zoo.Zoo;
import org.convkit.memory.Allocator;
import org.convkit.memory.ArenaPlan;
import org.convkit.memory.Bytes;
import org.convkit.memory.Footprint;
import org.convkit.memory.Liveness;
import org.convkit.memory.OomAdvisor;
import org.convkit.memory.Optimizer;
import org.convkit.onnx.Onnx;
import org.convkit.onnx.OnnxFormatException;
import org.convkit.onnx.OnnxImport;
import org.convkit.ops.Activation;
import org.convkit.ops.ActivationOp;
import org.convkit.ops.BatchNorm;
import org.convkit.ops.Binary;
import org.convkit.ops.Concat;
import org.convkit.ops.Conv2d;
import org.convkit.ops.ConvTranspose2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.GlobalPool2d;
import org.convkit.ops.Lrn;
import org.convkit.ops.PRelu;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.ops.Reshape;
import org.convkit.ops.SeparableConv2d;
import org.convkit.ops.Softmax;
import org.convkit.ops.SqueezeExcite;
import org.convkit.ops.Upsample;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.Figures;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.SmallNet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;

/**
 * The bad-input matrix: for the public entry points (every op, the model builder, tensors and
 * shapes, devices and kernels, sessions, the planner, the ONNX entry points, fault injection and
 * the command line's options), one row per invalid argument, each asserting the exception type
 * and that its message names the culprit (the parameter, the value, the shape or the option).
 * Invalid arguments are {@link IllegalArgumentException}s before any native call; run-time
 * refusals are convkit exceptions; a usage error of the command line is exit status 2 with a
 * message on standard error.
 */
@ExtendWith(HostLeakCheck.class)
class BadInputMatrixTest {
    private static final Shape IMAGE = Shape.nchw(1, 3, 8, 8);
    private static Device cpu;
    private static Model model;
    private static Allocator host;

    /** One row: where, what is wrong, the exception expected and what its message must name. */
    private record Row(String entry, String what, Class<? extends Throwable> type, Executable call, String... culprit) {
    }

    /** The command line's usage error, as an exception, so that CLI rows read like the others. */
    static final class UsageError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageError(String message) {
            super(message);
        }
    }

    @BeforeAll
    static void open() {
        cpu = Backends.system().open("cpu");
        model = SmallNet.build(1);
        host = Allocator.root("bad input host");
    }

    @AfterAll
    static void close() {
        host.close();
        model.close();
        cpu.close();
    }

    private static List<Row> rows = new ArrayList<>();

    private static void row(String entry, String what, Class<? extends Throwable> type, Executable call, String... culprit) {
        rows.add(new Row(entry, what, type, call, culprit));
    }

    private static void arg(String entry, String what, Executable call, String... culprit) {
        row(entry, what, IllegalArgumentException.class, call, culprit);
    }

    /** A command line that must end with status 2 and name the culprit on standard error. */
    private static void cli(String what, String[] args, String... culprit) {
        row("cli " + args[0], what, UsageError.class, () -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            if (status == 2) {
                throw new UsageError(err.toString(StandardCharsets.UTF_8));
            }
        }, culprit);
    }

    private static String[] args(String... a) {
        return a;
    }

    static void ops() {
        arg("Conv2d", "no output channels", () -> Conv2d.builder(0).build(), "outChannels", "0");
        arg("Conv2d", "kernel height 0", () -> Conv2d.builder(4).kernel(0, 3).build(), "kernelH", "0");
        arg("Conv2d", "negative kernel width", () -> Conv2d.builder(4).kernel(3, -1).build(), "kernelW", "-1");
        arg("Conv2d", "stride 0", () -> Conv2d.builder(4).stride(0).build(), "strideH", "0");
        arg("Conv2d", "dilation 0", () -> Conv2d.builder(4).dilation(0).build(), "dilationH");
        arg("Conv2d", "groups 0", () -> Conv2d.builder(4).groups(0).build(), "groups", "0");
        arg("Conv2d", "groups not dividing outChannels", () -> Conv2d.builder(6).groups(4).build(), "outChannels 6", "groups 4");
        arg("Conv2d", "null padding", () -> Conv2d.builder(4).padding(null).build(), "padding");
        arg("Conv2d", "null activation", () -> Conv2d.builder(4).activation(null).build(), "activation");
        arg("Conv2d", "input channels not divisible by groups",
                () -> Conv2d.builder(4).groups(2).build().outputShape(Shape.nchw(1, 7, 13, 9)), "groups", "7");
        arg("Conv2d", "kernel larger than the input", () -> Conv2d.builder(4).kernel(5).build()
                .outputShape(Shape.nchw(1, 3, 4, 9)), "kernel height 5", "input height 4");
        arg("Conv2d", "rank-3 input", () -> Conv2d.builder(4).build().outputShape(Shape.of(3, 200, 300)), "NCHW", "3x200x300");
        arg("Conv2d", "no input", () -> Conv2d.builder(4).build().outputShape(List.of()), "expected 1 input");
        arg("Padding", "negative pad", () -> Padding.explicit(1, -1, 0, 0), "pads", "left=-1");
        arg("SeparableConv2d", "no output channels", () -> SeparableConv2d.builder(0).build(), "outChannels", "0");
        arg("SeparableConv2d", "multiplier 0", () -> SeparableConv2d.builder(8).multiplier(0).build(), "multiplier", "0");
        arg("SeparableConv2d", "stride 0", () -> SeparableConv2d.builder(8).stride(1, 0).build(), "strideW");
        arg("SeparableConv2d", "rank-3 input", () -> SeparableConv2d.builder(8).build().outputShape(Shape.of(3, 8, 8)),
                "NCHW", "3x8x8");
        arg("ConvTranspose2d", "no output channels", () -> ConvTranspose2d.builder(0).build(), "outChannels", "0");
        arg("ConvTranspose2d", "output padding not below the stride",
                () -> ConvTranspose2d.builder(4).stride(2).outputPadding(0, 2).build(), "outputPaddingW 2", "strideW 2");
        arg("ConvTranspose2d", "output shape 0", () -> ConvTranspose2d.builder(4).outputShape(0, 8).build(), "outputShape",
                "0x8");
        arg("ConvTranspose2d", "dilation 0", () -> ConvTranspose2d.builder(4).dilation(1, 0).build(), "dilationW", "0");
        arg("ConvTranspose2d", "rank-3 input", () -> ConvTranspose2d.builder(4).build().outputShape(Shape.of(3, 16, 16)),
                "NCHW", "3x16x16");
        arg("Pool2d", "kernel 0", () -> Pool2d.max(0, 3).build(), "kernelH", "0");
        arg("Pool2d", "negative stride", () -> Pool2d.avg(2).stride(1, -2).build(), "strideW", "-2");
        arg("Pool2d", "pad as large as the kernel", () -> Pool2d.max(3).padding(Padding.explicit(3, 0, 0, 0)).build(),
                "pad top 3");
        arg("Pool2d", "count_include_pad on max", () -> Pool2d.max(2).padding(Padding.explicit(1)).countIncludePad(true)
                .build(), "countIncludePad");
        arg("Pool2d", "window larger than the input", () -> Pool2d.max(5).build().outputShape(Shape.nchw(1, 3, 4, 9)),
                "kernel height 5");
        arg("Pool2d", "rank-3 input", () -> Pool2d.max(2).build().outputShape(Shape.of(3, 32, 32)), "NCHW", "3x32x32");
        arg("GlobalPool2d", "rank-3 input", () -> GlobalPool2d.avg().outputShape(Shape.of(2048, 7, 7)), "NCHW", "2048x7x7");
        arg("GlobalPool2d", "null mode", () -> GlobalPool2d.of(null), "mode");
        arg("Lrn", "size 0", () -> Lrn.onnx(0, 1e-4f, 0.75f, 1f), "size", "0");
        arg("Lrn", "negative depth radius", () -> Lrn.tensorflow(-1, 1f, 1e-4f, 0.75f), "depthRadius", "-1");
        arg("Lrn", "NaN alpha", () -> Lrn.onnx(5, Float.NaN, 0.75f, 1f), "alpha", "NaN");
        arg("Lrn", "negative alpha", () -> Lrn.onnx(5, -1e-4f, 0.75f, 1f), "alpha", "-1.0E-4");
        arg("Lrn", "infinite beta", () -> Lrn.tensorflow(2, 1f, 1e-4f, Float.NEGATIVE_INFINITY), "beta", "-Infinity");
        arg("Lrn", "bias 0", () -> Lrn.onnx(5, 1e-4f, 0.75f, 0f), "bias", "0.0");
        arg("Lrn", "rank-1 input", () -> Lrn.onnx(5, 1e-4f, 0.75f, 1f).outputShape(List.of(Shape.of(96))), "rank 1", "96");
        arg("Dense", "no units", () -> Dense.builder(0).build(), "units", "0");
        arg("Dense", "negative inFeatures", () -> Dense.builder(4).inFeatures(-1).build(), "inFeatures", "-1");
        arg("Dense", "NaN alpha", () -> Dense.builder(4).alpha(Float.NaN).build(), "alpha", "NaN");
        arg("Dense", "infinite beta", () -> Dense.builder(4).beta(Float.NEGATIVE_INFINITY).build(), "beta", "-Infinity");
        arg("Dense", "bias of another width", () -> Dense.builder(4).bias(Shape.of(5)).build(), "bias C 5", "N=4");
        arg("Dense", "rank-4 input", () -> Dense.linear(10, true, Activation.NONE).outputShape(Shape.nchw(1, 256, 6, 6)),
                "1x256x6x6");
        arg("Dense", "wrong inFeatures", () -> Dense.linear(256, 1000, true, Activation.NONE).outputShape(Shape.of(1, 512)),
                "512", "256");
        arg("BatchNorm", "NaN epsilon", () -> BatchNorm.withEpsilon(Float.NaN), "epsilon", "NaN");
        arg("BatchNorm", "negative epsilon", () -> BatchNorm.withEpsilon(-1e-5f), "epsilon", "-1.0E-5");
        arg("BatchNorm", "rank-1 input", () -> BatchNorm.create().outputShape(Shape.of(64)), "rank 1", "64");
        arg("ActivationOp", "NaN leaky slope", () -> ActivationOp.leakyRelu(Float.NaN), "alpha", "NaN");
        arg("ActivationOp", "infinite hard-sigmoid beta", () -> ActivationOp.hardSigmoid(0.2f, Float.POSITIVE_INFINITY),
                "beta", "Infinity");
        arg("ActivationOp", "clip min above max", () -> ActivationOp.clip(2f, 1f), "min 2.0", "max 1.0");
        arg("ActivationOp", "clip NaN", () -> ActivationOp.clip(Float.NaN, 1f), "min", "NaN");
        arg("ActivationOp", "two inputs", () -> ActivationOp.tanh().outputShape(List.of(IMAGE, IMAGE)), "expected 1 input");
        arg("PRelu", "channels 0", () -> PRelu.perChannel(0), "channels", "0");
        arg("PRelu", "null slope", () -> PRelu.of(null), "slope shape");
        arg("PRelu", "slope of other channels", () -> PRelu.perChannel(3).outputShape(List.of(Shape.nchw(1, 4, 5, 5))),
                "1x4x5x5");
        arg("Softmax", "axis past the rank", () -> Softmax.of(3).outputShape(List.of(Shape.of(3, 4, 5))), "axis 3", "3x4x5");
        arg("Softmax", "axis out of range", () -> Softmax.of(8), "axis", "8");
        arg("Binary", "not broadcastable", () -> Binary.add().outputShape(List.of(Shape.of(2, 3, 4), Shape.of(5, 4))),
                "2x3x4", "5x4");
        arg("Binary", "one input", () -> Binary.add().outputShape(List.of(Shape.of(3))), "expected 2 input(s), got 1");
        arg("Binary", "null activation", () -> Binary.add(null), "activation");
        arg("Binary", "null kind", () -> Binary.of(null, Activation.NONE), "kind");
        arg("Concat", "no inputs", () -> Concat.of(0).outputShape(List.of()), "at least 1 input", "got 0");
        arg("Concat", "axis out of range", () -> Concat.of(8), "axis 8");
        arg("Concat", "mismatched shapes", () -> Concat.of(1).outputShape(List.of(Shape.nchw(1, 64, 28, 28),
                Shape.nchw(1, 32, 14, 28))), "1x32x14x28");
        arg("SqueezeExcite", "ratio 0", () -> SqueezeExcite.of(0), "ratio", "0");
        arg("SqueezeExcite", "rank-3 input", () -> SqueezeExcite.of().outputShape(List.of(Shape.of(256, 56, 56))), "NCHW",
                "256x56x56");
        arg("Upsample", "scale 0", () -> Upsample.nearest(0f), "scale", "0");
        arg("Upsample", "NaN scale", () -> Upsample.bilinear(Float.NaN), "scale", "NaN");
        arg("Upsample", "rank-3 input", () -> Upsample.nearest(2f).outputShape(List.of(Shape.of(3, 8, 8))), "3x8x8");
        arg("Flatten", "axis past the rank", () -> Flatten.axis(5).outputShape(Shape.nchw(2, 3, 4, 5)), "axis 5", "2x3x4x5");
        arg("Flatten", "axis beyond rank 8", () -> Flatten.axis(9), "axis 9");
        arg("Reshape", "no target", () -> Reshape.to(), "target shape []");
        arg("Reshape", "two -1", () -> Reshape.to(-1, 3, -1), "[-1, 3, -1]", "at most one");
        arg("Reshape", "other element count", () -> Reshape.to(5, 5).outputShape(Shape.of(2, 3, 4)), "2x3x4", "[5, 5]");
    }

    static void modelsAndTensors() {
        arg("Shape", "dimension 0", () -> Shape.of(2, 0), "dimension 1", "0");
        arg("Shape", "rank 9", () -> Shape.of(1, 1, 1, 1, 1, 1, 1, 1, 1), "rank", "9");
        arg("Shape", "element count past a long", () -> Shape.of(Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE),
                "overflows");
        arg("Tensor", "values of another count", () -> Tensor.of(Shape.of(2, 2), new float[3], host, "t"), "3 values",
                "2x2");
        arg("Tensor", "copy of another shape", () -> {
            try (Tensor a = Tensor.allocate(Shape.of(2), DType.F32, host, "a");
                    Tensor b = Tensor.allocate(Shape.of(3), DType.F32, host, "b")) {
                a.copyFrom(b);
            }
        }, "source 3", "destination 2");
        row("Tensor", "use after close", IllegalStateException.class, () -> {
            Tensor t = Tensor.allocate(Shape.of(2), DType.F32, host, "closed one");
            t.close();
            t.get(0);
        }, "closed one", "closed");
        arg("DType", "unknown name", () -> DType.parse("f64"), "f64");
        arg("Graph.Builder", "layers that do not fit", () -> {
            Graph.Builder b = Graph.builder("bad", Shape.nchw(1, 3, 32, 32));
            Node x = b.input();
            Node y = b.apply("conv1", Conv2d.builder(8).kernel(3).stride(2).padding(Padding.SAME).build(), x);
            b.apply("add", Binary.add(), y, x);
        }, "'add'", "conv1", "1x8x16x16", "1x3x32x32");
        arg("Graph.Builder", "unknown tensor", () -> Graph.builder("g", IMAGE).node("nowhere"), "nowhere");
        arg("Graph.Builder", "output not the last layer", () -> {
            Graph.Builder b = Graph.builder("g", IMAGE);
            Node x = b.input();
            b.apply("relu", ActivationOp.relu(), x);
            b.graph(x);
        }, "must be the last layer");
        arg("Graph.Builder", "layer reads an unknown tensor", () -> Graph.builder("g", IMAGE).add("r", ActivationOp.relu(),
                "ghost"), "ghost");
        arg("Graph.Builder", "two layers of one name", () -> Graph.builder("g", IMAGE).add("r", ActivationOp.relu())
                .add("r", ActivationOp.relu()), "'r'");
        arg("Model", "parameters of the wrong shape", () -> {
            Graph g = Graph.builder("one", Shape.nchw(1, 2, 4, 4)).add("conv", Conv2d.builder(3).kernel(3)
                    .padding(Padding.SAME).build()).graph();
            try (Tensor w = Tensor.allocate(Shape.of(3, 2, 2, 2), DType.F32, host, "w");
                    Tensor b = Tensor.allocate(Shape.of(3), DType.F32, host, "b")) {
                Model.withParameters(g, l -> List.of(w, b)).close();
            }
        }, "'conv'", "3x2x3x3", "3x2x2x2");
        arg("Model", "too few parameters", () -> {
            Graph g = Graph.builder("one", Shape.nchw(1, 2, 4, 4)).add("conv", Conv2d.builder(3).kernel(3)
                    .padding(Padding.SAME).build()).graph();
            try (Tensor w = Tensor.allocate(Shape.of(3, 2, 3, 3), DType.F32, host, "w")) {
                Model.withParameters(g, l -> List.of(w)).close();
            }
        }, "needs 2 parameter tensors");
        arg("Zoo", "unknown model", () -> Zoo.find("lenet6"), "lenet6");
    }

    static void devicesAndSessions() {
        arg("Device.allocate", "0 bytes", () -> cpu.allocate(0, "nothing"), "positive", "0", "nothing");
        arg("Device.allocate", "another device's allocator", () -> cpu.allocate(16, Allocator.root("elsewhere"), "x"),
                "elsewhere", "does not belong");
        arg("Device.view", "misaligned offset", () -> {
            try (DeviceBuffer b = cpu.allocate(4096, "arena")) {
                cpu.view(b, 3, 64, "v").close();
            }
        }, "offset 3", "multiple of");
        arg("Device.view", "past the end", () -> {
            try (DeviceBuffer b = cpu.allocate(256, "arena")) {
                cpu.view(b, 192, 128, "v").close();
            }
        }, "128 B at offset 192");
        arg("Device.upload", "into a smaller buffer", () -> {
            try (DeviceBuffer b = cpu.allocate(4, "small");
                    Tensor t = Tensor.allocate(Shape.of(4), DType.F32, host, "four")) {
                cpu.upload(t, b);
            }
        }, "smaller buffer", "small");
        arg("Device.download", "into a closed tensor", () -> {
            Tensor t = Tensor.allocate(Shape.of(4), DType.F32, host, "gone");
            t.close();
            try (DeviceBuffer b = cpu.allocate(16, "src")) {
                cpu.download(b, t);
            }
        }, "closed tensor", "gone");
        arg("Device.prepare", "shapes the op refuses", () -> cpu.prepare(Conv2d.builder(4).build(), List.of(Shape.of(3, 8))),
                "NCHW", "3x8");
        arg("Kernel.run", "too few buffers", () -> {
            try (Kernel k = cpu.prepare(ActivationOp.relu(), List.of(Shape.of(4)));
                    DeviceBuffer out = cpu.allocate(16, "out")) {
                k.run(List.of(), out);
            }
        }, "expected 1 argument buffers", "got 0");
        arg("Kernel.run", "output aliases an input", () -> {
            try (Kernel k = cpu.prepare(ActivationOp.relu(), List.of(Shape.of(4)));
                    DeviceBuffer b = cpu.allocate(16, "both")) {
                k.run(List.of(b), b);
            }
        }, "output buffer both is also an argument");
        arg("Kernel.run", "buffer too small", () -> {
            try (Kernel k = cpu.prepare(ActivationOp.relu(), List.of(Shape.of(4)));
                    DeviceBuffer in = cpu.allocate(8, "tiny");
                    DeviceBuffer out = cpu.allocate(16, "out")) {
                k.run(List.of(in), out);
            }
        }, "needs 16 B", "tiny has 8 B");
        arg("Session.run", "input of the wrong shape", () -> {
            try (Session s = Session.open(model, cpu);
                    Tensor wrong = Tensor.allocate(Shape.nchw(1, 3, 8, 8), DType.F32, host, "wrong")) {
                s.run(wrong).close();
            }
        }, "smallnet", "1x3x16x16", "1x3x8x8");
        row("Session.run", "after close", IllegalStateException.class, () -> {
            Session s = Session.open(model, cpu);
            s.close();
            try (Tensor in = Tensor.allocate(model.inputShape(), DType.F32, host, "in")) {
                s.run(in).close();
            }
        }, "smallnet", "closed");
        row("Session.Execution", "run after close", IllegalStateException.class, () -> {
            try (Session s = Session.open(model, cpu);
                    Tensor in = Tensor.allocate(model.inputShape(), DType.F32, host, "in")) {
                Session.Execution e = s.newExecution();
                e.close();
                e.run(in).close();
            }
        }, "execution 1", "closed");
        row("Session.newExecution", "after close", IllegalStateException.class, () -> {
            Session s = Session.open(model, cpu);
            s.close();
            s.newExecution();
        }, "smallnet", "closed");
        arg("Session.open", "budget 0", () -> Session.open(model, cpu, ExecutionMode.EAGER, 0), "limit", "0");
        row("Session.open", "budget below the weights", org.convkit.memory.OutOfDeviceMemoryException.class,
                () -> Session.open(model, cpu, ExecutionMode.PLANNED, 1024).close(), "out of memory", "limited to");
        arg("Allocator", "blank name", () -> Allocator.root(" "), "name");
        arg("Allocator", "limit 0", () -> Allocator.root("a", 0), "limit", "0");
        row("Allocator", "closed with a live buffer", IllegalStateException.class, () -> {
            Allocator a = Allocator.root("holder");
            var live = a.allocate(64, "kept");
            try {
                a.close();
            } finally {
                live.close();
                a.close();
            }
        }, "holder", "kept");
        arg("FaultInjection", "k = 0", () -> FaultInjection.failAllocation(0), "k", "0");
        arg("FallbackSession", "no devices", () -> FallbackSession.open(model, List.of(), ExecutionMode.EAGER),
                "smallnet", "no devices");
        row("AbstractDevice", "a lost device refuses work", org.convkit.backend.DeviceLostException.class, () -> {
            try (Device d = Backends.system().open("cpu")) {
                ((AbstractDevice) d).injectFaults(FaultInjection.loseDeviceAt(1));
                try (Tensor t = Tensor.allocate(Shape.of(4), DType.F32, host, "t");
                        DeviceBuffer b = d.allocate(16, "target")) {
                    d.upload(t, b);
                }
            }
        }, "cpu", "DEVICE_LOST", "target");
        arg("Backends.open", "unknown device", () -> Backends.system().open("tpu:0"), "tpu:0");
    }

    static void planner() {
        Graph seed = model.graph();
        arg("Footprint", "alignment 0", () -> Footprint.of(seed, DType.F32, Optimizer.parse("sgd"), 0), "alignment", "0");
        arg("Optimizer", "unknown name", () -> Optimizer.parse("lion"), "lion");
        arg("Bytes", "size that is not one", () -> Bytes.parse("lots"), "lots");
        arg("Bytes", "negative size", () -> Bytes.parse("-5MiB"), "-5MiB");
        arg("ArenaPlan", "alignment 0", () -> ArenaPlan.greedyBySize(Liveness.inference(seed, DType.F32).tensors(), 0),
                "alignment", "0");
        arg("Graph.withInput", "an input the first layer refuses", () -> seed.withInput(Shape.of(3, 16, 16)), "3x16x16");
        arg("OomAdvisor", "budget 0", () -> new OomAdvisor(seed, DType.F32, Optimizer.parse("sgd"), 256,
                OomAdvisor.Target.INFERENCE).advise(0), "budget", "0");
        arg("Graph.withBatch", "batch 0", () -> seed.withBatch(0), "0");
    }

    static void onnx() {
        row("Onnx.readModel", "a file that is not there", OnnxFormatException.class,
                () -> Onnx.readModel(Path.of("no-such-model.onnx")), "no-such-model.onnx", "cannot read");
        row("Onnx.parseModel", "bytes that are not a model", OnnxFormatException.class,
                () -> Onnx.parseModel(new byte[] {0x08, (byte) 0x80}, "garbage"), "garbage", "truncated varint");
        row("Onnx.parseModel", "a model without a graph", OnnxFormatException.class,
                () -> Onnx.parseModel(new byte[] {0x08, 0x07}, "empty"), "empty", "no graph");
        row("Onnx.parseTensor", "a terabyte tensor", OnnxFormatException.class, () -> Onnx.parseTensor(new byte[] {0x08,
            (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x20, 0x10, 0x01}, "huge"), "huge",
                "declares more than");
        row("OnnxImport.load", "parameters over the limit", ConvkitException.class, () -> OnnxImport.load(
                Onnx.parseModel(org.convkit.testing.SmallOnnx.conv(), "conv"), null, "conv", 16).close(), "conv", "limit");
    }

    static void commandLine() {
        cli("unknown command", args("frobnicate"), "unknown command 'frobnicate'");
        cli("unknown option", args("demo", "--frob", "1"), "unknown option --frob");
        cli("option without a value", args("demo", "--batch"), "--batch needs a value");
        cli("batch 0", args("demo", "--batch", "0"), "--batch", "0");
        cli("runs not a number", args("demo", "--runs", "many"), "--runs", "many");
        cli("stray argument", args("devices", "extra"), "unexpected argument 'extra'");
        cli("plan: unknown model", args("plan", "--model", "nonet", "--measure", "false"), "unknown model 'nonet'");
        cli("plan: dtype", args("plan", "--dtype", "f64", "--measure", "false"), "f64");
        cli("plan: optimizer", args("plan", "--optimizer", "lion", "--measure", "false"), "lion");
        cli("plan: budget", args("plan", "--budget", "lots", "--measure", "false"), "lots");
        cli("plan: for", args("plan", "--for", "fun", "--measure", "false"), "--for");
        cli("plan: flag value", args("plan", "--json=maybe", "--measure", "false"), "--json", "maybe");
        cli("plan: batch too large", args("plan", "--batch", "99999999", "--measure", "false"), "--batch", "99999999");
        cli("plan: no such onnx file", args("plan", "--model", "missing.onnx", "--measure", "false"), "missing.onnx");
        cli("zoo: batch", args("zoo", "--batch", "-1"), "--batch", "-1");
        cli("zoo: optimizer", args("zoo", "--optimizer", "lion"), "lion");
        cli("conformance: no folder", args("conformance"), "give one or more folders");
        cli("conformance: not a folder", args("conformance", "nowhere-at-all"), "nowhere-at-all");
        cli("soak: mode", args("soak", "--mode", "lazy"), "--mode", "lazy");
        cli("soak: model", args("soak", "--model", "nonet"), "--model", "nonet");
        cli("soak: runs below samples", args("soak", "--runs", "3"), "--runs", "3");
        cli("soak: samples", args("soak", "--samples", "1"), "--samples", "1");
    }

    @TestFactory
    Stream<DynamicTest> everyInvalidArgumentNamesItsCulprit() {
        rows = new ArrayList<>();
        ops();
        modelsAndTensors();
        devicesAndSessions();
        planner();
        onnx();
        commandLine();
        List<Row> all = List.copyOf(rows);
        Figures.record("bad-input", all.size() + " bad-input cases, each asserting the exception type and that its message "
                + "names the culprit (" + all.stream().map(r -> r.entry().split("[ .]")[0]).distinct().count()
                + " entry points)");
        return all.stream().map(r -> DynamicTest.dynamicTest(r.entry() + ": " + r.what(), () -> {
            Throwable e = assertThrows(r.type(), r.call(), r.entry() + ": " + r.what());
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "no message");
            for (String c : r.culprit()) {
                assertTrue(e.getMessage().contains(c), () -> "message '" + e.getMessage() + "' does not name '" + c + "'");
            }
            assertEquals(0, cpu.allocator().liveBytes(), () -> "left on the device:\n" + cpu.allocator().tree());
        }));
    }
}
