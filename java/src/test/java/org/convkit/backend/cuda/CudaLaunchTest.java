package org.convkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.backend.grad.GradLaunches;
import org.convkit.backend.opencl.ClConv2dPathsTest;
import org.convkit.backend.opencl.ClLaunchRunner;
import org.convkit.backend.plan.Conv2dPlan;
import org.convkit.backend.plan.Conv2dTuning;
import org.convkit.memory.Allocator;
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
import org.convkit.ops.Op;
import org.convkit.ops.PRelu;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.ops.Reshape;
import org.convkit.ops.SeparableConv2d;
import org.convkit.ops.Softmax;
import org.convkit.ops.SoftmaxCrossEntropy;
import org.convkit.ops.SqueezeExcite;
import org.convkit.ops.Upsample;
import org.convkit.ops.grad.SoftmaxCrossEntropyGrad;
import org.convkit.ops.train.Accumulate;
import org.convkit.ops.train.AdamUpdate;
import org.convkit.ops.train.RunningAverage;
import org.convkit.ops.train.SgdUpdate;
import org.convkit.ops.train.StepScalars;
import org.convkit.ops.grad.Gradient;
import org.convkit.ops.grad.GradientOp;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each {@code Cuda<Op>} makes the launches its {@code Cl<Op>} twin makes, checked without a GPU:
 * the CUDA kernels have the OpenCL kernels' entries and parameters (see {@link CudaLaunch}), so a
 * CUDA launch description must run unchanged through the OpenCL kernel, built with its default
 * macros, on the PoCL device and give the OpenCL host's output bit for bit; and its grid times
 * its block must be the OpenCL global size, its block the local size. An argument out of order,
 * of the wrong type or value, or a grid too small fails here.
 */
@ExtendWith(HostLeakCheck.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaLaunchTest {
    /** A case: the op, its input shapes and the CUDA host's launches for them. */
    record Case(Op op, List<Shape> inputs, List<CudaLaunch> launches) {
        static Case of(Op op, List<Shape> inputs, Supplier<List<CudaLaunch>> plan) {
            return new Case(op, inputs, plan.get());
        }

        @Override
        public String toString() {
            return op.describe(inputs);
        }
    }

    /** An H200's limits: 1024 threads and 48 KiB of static shared memory per block, 132 multiprocessors. */
    static final Conv2dPlan.Limits H200 = new Conv2dPlan.Limits(1024, 48 * 1024, 132);
    /** A GPU with one multiprocessor, where the largest tiles win: conv2d_tiled's other modules. */
    static final Conv2dPlan.Limits ONE_SM = new Conv2dPlan.Limits(1024, 48 * 1024, 1);

    private Device cl;
    private final Allocator host = Allocator.root("cuda launch test host");

    @BeforeAll
    void open() {
        TestDevices.checkOpenCl();
        cl = Backends.system().open("opencl:0");
    }

    @AfterAll
    void close() {
        if (cl != null) {
            TestDevices.closeAll(List.of(cl));
        }
        host.close();
    }

    @AfterEach
    void hostClean() {
        assertEquals(0, host.liveBytes(), host::tree);
    }

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        // conv2d: every entry, and conv2d_tiled with each tile shape (module) of the GPU data. The
        // OpenCL host here uses the CPU data; the cases keep each sum in one K chunk under both
        // tables, so that the two orders of summation, hence the bits, agree.
        Shape img = Shape.nchw(1, 3, 9, 11);
        Conv2d conv = Conv2d.builder(8).kernel(3).padding(Padding.SAME).activation(Activation.RELU).build();
        c.add(Case.of(conv, List.of(img), () -> CudaConv2d.plan(conv, img, H200)));
        Shape in2 = Shape.nchw(2, 4, 13, 9);
        Conv2d grouped = Conv2d.builder(6).kernel(3).stride(2).dilation(2).groups(2).bias(false).build();
        c.add(Case.of(grouped, List.of(in2), () -> CudaConv2d.plan(grouped, in2, H200)));
        Conv2d many = Conv2d.builder(64).kernel(3).padding(Padding.SAME).build();
        Shape square = Shape.nchw(1, 5, 16, 16);
        c.add(Case.of(many, List.of(square), () -> CudaConv2d.plan(many, square, ONE_SM)));
        Shape manyIn = Shape.nchw(2, 5, 4, 32);
        c.add(Case.of(many, List.of(manyIn), () -> CudaConv2d.plan(many, manyIn, ONE_SM)));
        Conv2d pointwise = Conv2d.builder(20).kernel(1).groups(2).activation(Activation.RELU).build();
        Shape pwIn = Shape.nchw(2, 12, 7, 9);
        c.add(Case.of(pointwise, List.of(pwIn), () -> CudaConv2d.plan(pointwise, pwIn, H200)));
        Conv2d depthwise = Conv2d.builder(8).kernel(3).stride(2).groups(4).padding(Padding.SAME).build();
        Shape dwIn = Shape.nchw(1, 4, 13, 17);
        c.add(Case.of(depthwise, List.of(dwIn), () -> CudaConv2d.plan(depthwise, dwIn, H200)));
        Conv2d huge = Conv2d.builder(4).kernel(25).build();
        Shape hugeIn = Shape.nchw(1, 2, 27, 28);
        c.add(Case.of(huge, List.of(hugeIn), () -> CudaConv2d.plan(huge, hugeIn, H200)));

        SeparableConv2d sep = SeparableConv2d.builder(8).kernel(3).padding(Padding.SAME).build();
        c.add(Case.of(sep, List.of(img), () -> CudaSeparableConv2d.plan(sep, List.of(img))));
        SeparableConv2d sepBare = SeparableConv2d.builder(5).kernel(3).stride(2).multiplier(2).depthwiseBias(false)
                .pointwiseBias(true).build();
        c.add(Case.of(sepBare, List.of(in2), () -> CudaSeparableConv2d.plan(sepBare, List.of(in2))));
        SeparableConv2d sepNone = SeparableConv2d.builder(4).kernel(3).depthwiseBias(true).pointwiseBias(false).build();
        c.add(Case.of(sepNone, List.of(in2), () -> CudaSeparableConv2d.plan(sepNone, List.of(in2))));

        Shape small = Shape.nchw(1, 3, 5, 6);
        ConvTranspose2d up = ConvTranspose2d.builder(4).kernel(3).stride(2).build();
        c.add(Case.of(up, List.of(small), () -> CudaConvTranspose2d.plan(up, small)));
        Shape four = Shape.nchw(1, 4, 5, 5);
        ConvTranspose2d upGrouped = ConvTranspose2d.builder(6).kernel(2).groups(2).bias(false).build();
        c.add(Case.of(upGrouped, List.of(four), () -> CudaConvTranspose2d.plan(upGrouped, four)));

        for (int m : new int[] {2, 3, 20}) {
            Shape a = Shape.of(m, 37);
            Dense d = Dense.builder(70).transB(m == 2).transA(false).bias(m != 3).activation(
                    m == 20 ? Activation.RELU : Activation.NONE).build();
            c.add(Case.of(d, List.of(a), () -> CudaDense.plan(d, a)));
        }

        Pool2d max = Pool2d.max(3).stride(2).padding(Padding.SAME).build();
        c.add(Case.of(max, List.of(in2), () -> CudaPool2d.plan(max, in2)));
        Pool2d avg = Pool2d.avg(3).padding(Padding.explicit(1, 0, 1, 2)).countIncludePad(true).build();
        c.add(Case.of(avg, List.of(in2), () -> CudaPool2d.plan(avg, in2)));
        for (GlobalPool2d g : List.of(GlobalPool2d.avg(), GlobalPool2d.max())) {
            c.add(Case.of(g, List.of(in2), () -> CudaGlobalPool2d.plan(g, in2)));
        }

        Upsample nearest = Upsample.nearest(2f);
        c.add(Case.of(nearest, List.of(small), () -> CudaUpsample.plan(nearest, small)));
        Upsample bilinear = Upsample.builder(Upsample.Mode.BILINEAR).scale(3f, 2f)
                .coordinates(Upsample.Coordinates.ALIGN_CORNERS).build();
        c.add(Case.of(bilinear, List.of(small), () -> CudaUpsample.plan(bilinear, small)));

        BatchNorm bn = BatchNorm.withEpsilon(1e-3f);
        Shape planes = Shape.nchw(2, 3, 20, 20);
        c.add(Case.of(bn, List.of(planes), () -> CudaBatchNorm.plan(bn, planes)));
        Shape rows = Shape.of(4, 10);
        c.add(Case.of(bn, List.of(rows), () -> CudaBatchNorm.plan(bn, rows)));

        Lrn lrn = Lrn.onnx(5, 1e-2f, 0.75f, 2f);
        Shape deep = Shape.nchw(2, 7, 4, 5);
        c.add(Case.of(lrn, List.of(deep), () -> CudaLrn.plan(lrn, deep)));

        for (ActivationOp a : List.of(ActivationOp.leakyRelu(0.1f), ActivationOp.clip(-0.5f, 0.25f),
                ActivationOp.sigmoid())) {
            c.add(Case.of(a, List.of(deep), () -> CudaActivation.plan(a, deep)));
        }
        for (PRelu p : List.of(PRelu.perChannel(7), PRelu.shared())) {
            c.add(Case.of(p, List.of(deep), () -> CudaPRelu.plan(p, deep)));
        }

        Softmax last = Softmax.lastAxis();
        Shape longRows = Shape.of(3, 100);
        c.add(Case.of(last, List.of(longRows), () -> CudaSoftmax.plan(last, longRows)));
        Softmax channels = Softmax.of(1);
        c.add(Case.of(channels, List.of(deep), () -> CudaSoftmax.plan(channels, deep)));

        List<List<Shape>> pairs = List.of(
                List.of(Shape.of(2, 3, 5), Shape.of(2, 3, 5)),
                List.of(Shape.of(2, 3, 5), Shape.of(1, 3, 1)),
                List.of(Shape.of(3, 40), Shape.of(1, 40)),
                List.of(Shape.of(3, 40), Shape.of(3, 1)),
                List.of(Shape.of(3, 1), Shape.of(3, 40)),
                List.of(Shape.of(2, 3, 40), Shape.of(2, 1, 40)),
                List.of(Shape.of(2, 3, 40), Shape.of(1, 3, 1)),
                List.of(Shape.of(1, 3, 1), Shape.of(2, 3, 40)));
        for (int i = 0; i < pairs.size(); i++) {
            Binary b = i % 2 == 0 ? Binary.add(Activation.RELU) : Binary.mul();
            List<Shape> in = pairs.get(i);
            c.add(Case.of(b, in, () -> CudaBinary.plan(b, in)));
        }

        SqueezeExcite se = SqueezeExcite.of(4);
        Shape seIn = Shape.nchw(2, 16, 5, 6);
        c.add(Case.of(se, List.of(seIn), () -> CudaSqueezeExcite.plan(se, seIn)));

        Concat byChannel = Concat.of(1);
        List<Shape> wide = List.of(Shape.nchw(1, 3, 4, 40), Shape.nchw(1, 2, 4, 40));
        c.add(Case.of(byChannel, wide, () -> CudaConcat.plan(byChannel, wide)));
        Concat byWidth = Concat.of(3);
        List<Shape> narrow = List.of(Shape.nchw(2, 3, 4, 5), Shape.nchw(2, 3, 4, 2), Shape.nchw(2, 3, 4, 1));
        c.add(Case.of(byWidth, narrow, () -> CudaConcat.plan(byWidth, narrow)));

        Flatten flatten = Flatten.DEFAULT;
        c.add(Case.of(flatten, List.of(deep), () -> CudaCopy.plan(deep)));
        Reshape reshape = Reshape.to(14, 20);
        c.add(Case.of(reshape, List.of(deep), () -> CudaCopy.plan(deep)));

        for (List<Shape> loss : List.of(List.of(Shape.of(70, 10), Shape.of(70)),
                List.of(Shape.nchw(2, 5, 3, 7), Shape.of(2, 3, 7)))) {
            c.add(Case.of(SoftmaxCrossEntropy.INSTANCE, loss, () -> CudaSoftmaxCrossEntropy.plan(
                    SoftmaxCrossEntropy.INSTANCE, loss)));
            c.add(Case.of(SoftmaxCrossEntropyGrad.INSTANCE, loss, () -> CudaSoftmaxCrossEntropyGrad.plan(
                    SoftmaxCrossEntropyGrad.INSTANCE, loss)));
        }
        Shape flat = Shape.of(300);
        c.add(Case.of(Accumulate.INSTANCE, List.of(flat), () -> CudaAccumulate.plan(flat)));
        for (SgdUpdate sgd : List.of(SgdUpdate.plain(), SgdUpdate.withMomentum(0.9f))) {
            List<Shape> in = sgd.hasVelocity() ? List.of(flat, flat, StepScalars.SHAPE) : List.of(flat, StepScalars.SHAPE);
            c.add(Case.of(sgd, in, () -> CudaSgdUpdate.plan(sgd, in)));
        }
        AdamUpdate adam = AdamUpdate.defaults();
        List<Shape> adamIn = List.of(flat, flat, flat, StepScalars.SHAPE);
        c.add(Case.of(adam, adamIn, () -> CudaAdamUpdate.plan(adam, adamIn)));
        Shape stats = Shape.of(2, 300);
        for (RunningAverage r : List.of(RunningAverage.mean(0.1f), RunningAverage.variance(0.1f, 8))) {
            c.add(Case.of(r, List.of(stats), () -> CudaRunningAverage.plan(r, stats)));
        }
        gradientCases(c);
        return c;
    }

    /** The backward pass: every entry of the gradient kernels, through the plans both GPU hosts run. */
    private static void gradientCases(List<Case> c) {
        Shape deep = Shape.nchw(2, 7, 4, 5);
        List<Op> ops = new ArrayList<>();
        for (ActivationOp a : List.of(ActivationOp.relu(), ActivationOp.sigmoid(), ActivationOp.clip(-0.5f, 0.25f))) {
            ops.addAll(terms(a, List.of(deep)));
        }
        ops.addAll(terms(PRelu.perChannel(7), List.of(deep)));
        ops.addAll(terms(Binary.mul(Activation.RELU), List.of(deep, Shape.of(7, 1, 1))));
        ops.addAll(terms(Binary.add(), List.of(Shape.of(3, 40), Shape.of(3, 1))));
        Shape img = Shape.nchw(2, 4, 9, 7);
        ops.addAll(terms(Conv2d.builder(6).kernel(3).stride(2).groups(2).padding(Padding.SAME)
                .activation(Activation.RELU).build(), List.of(img)));
        ops.addAll(terms(ConvTranspose2d.builder(4).kernel(3).stride(2).padding(Padding.explicit(1, 0, 2, 1))
                .activation(Activation.RELU).build(), List.of(img)));
        // The tiled conv2d_grad entries (at least 8 channels a side).
        ops.addAll(terms(Conv2d.builder(18).kernel(3).stride(2).padding(Padding.SAME).activation(Activation.RELU)
                .build(), List.of(Shape.nchw(2, 9, 9, 20))));
        ops.addAll(terms(ConvTranspose2d.builder(10).kernel(3).stride(2).padding(Padding.SAME)
                .activation(Activation.RELU).build(), List.of(Shape.nchw(2, 12, 5, 6))));
        ops.addAll(terms(Dense.builder(9).transA(true).bias(Shape.of(5, 1)).alpha(0.5f).beta(2f)
                .activation(Activation.RELU).build(), List.of(Shape.of(6, 5))));
        ops.addAll(terms(Dense.linear(9, true, Activation.NONE), List.of(Shape.of(5, 6))));
        ops.addAll(terms(Pool2d.max(3).stride(2).padding(Padding.SAME).build(), List.of(img)));
        ops.addAll(terms(Pool2d.avg(3).stride(2).padding(Padding.explicit(1, 1, 1, 0)).countIncludePad(true)
                .ceilMode(true).build(), List.of(img)));
        ops.addAll(terms(Softmax.of(1), List.of(deep)));
        ops.addAll(terms(Concat.of(1), List.of(deep, Shape.nchw(2, 3, 4, 5))));
        ops.addAll(terms(Lrn.tensorflow(2, 1f, 0.1f, 0.75f), List.of(deep)));
        ops.addAll(terms(Upsample.builder(Upsample.Mode.BILINEAR).scale(2.5f, 2f).build(), List.of(deep)));
        ops.addAll(terms(Upsample.nearest(3f), List.of(deep)));
        Shape planes = Shape.nchw(2, 3, 5, 4);
        ops.addAll(terms(BatchNorm.create(), List.of(planes)));
        ops.addAll(terms(BatchNorm.create().training(), List.of(planes)));
        for (Op op : ops) {
            List<Shape> in = ((GradientOp) op).operandShapes();
            c.add(Case.of(op, in, () -> CudaLaunches.of(GradLaunches.plan(op, in))));
        }
        // Forward ops of training, planned like the gradients.
        for (Op op : List.of(BatchNorm.create().training(), BatchNorm.create().training().statistics())) {
            c.add(Case.of(op, List.of(planes), () -> CudaLaunches.of(GradLaunches.plan(op, List.of(planes)))));
        }
    }

    /** The gradient ops of a forward op that the GPU plans run (a copy such as add's dy is a Reshape, tested above). */
    private static List<Op> terms(Op forward, List<Shape> inputs) {
        return forward.gradients(inputs).stream().map(Gradient::op)
                .filter(op -> op instanceof GradientOp).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aCudaLaunchIsItsOpenClTwinsLaunch(Case c) {
        try (Kernel k = cl.prepare(c.op(), c.inputs())) {
            List<long[][]> sizes = ClLaunchRunner.workSizes(k);
            if (!sizes.isEmpty()) {
                assertEquals(sizes.size(), c.launches().size(), "launches");
                for (int i = 0; i < sizes.size(); i++) {
                    checkSizes(c.launches().get(i), sizes.get(i)[0], sizes.get(i)[1]);
                }
            }
            List<DeviceBuffer> args = new ArrayList<>();
            List<Tensor> hostArgs = new ArrayList<>();
            DeviceBuffer viaCl = null;
            DeviceBuffer viaCuda = null;
            DeviceBuffer ws1 = null;
            DeviceBuffer ws2 = null;
            try {
                for (int i = 0; i < k.argumentShapes().size(); i++) {
                    Shape s = k.argumentShapes().get(i);
                    Tensor t = Tensor.allocate(s, DType.F32, host, "arg" + i);
                    hostArgs.add(t);
                    // A batchnorm's variance (argument 4), Adam's second moment and step scalars (arguments 2
                    // and 3) must be positive, a loss's labels (argument 1) classes; the rest takes both signs.
                    boolean positive = c.op() instanceof BatchNorm && i == 4 || c.op() instanceof AdamUpdate && i >= 2;
                    if (c.op() instanceof SoftmaxCrossEntropy || c.op() instanceof SoftmaxCrossEntropyGrad) {
                        int classes = k.argumentShapes().get(0).dim(1);
                        t.fillUniform(31L * i + 7, 0f, classes);
                        for (long e = 0; e < t.elementCount() && i == 1; e++) {
                            t.set(e, (float) Math.floor(t.get(e)));
                        }
                    } else {
                        t.fillUniform(31L * i + 7, positive ? 0.5f : -1f, positive ? 1.5f : 1f);
                    }
                    DeviceBuffer b = cl.allocate(t.byteSize(), "arg" + i);
                    args.add(b);
                    cl.upload(t, b);
                }
                long outBytes = k.outputShape().byteSize(DType.F32);
                // An in-place update reads its output (the parameter): both start from the same values.
                boolean inPlace = c.op() instanceof SgdUpdate || c.op() instanceof AdamUpdate || c.op() instanceof Accumulate
                        || c.op() instanceof RunningAverage;
                viaCl = inPlace ? random(outBytes, "output via ClKernel") : poisoned(outBytes, "output via ClKernel");
                viaCuda = inPlace ? random(outBytes, "output via CudaLaunch") : poisoned(outBytes, "output via CudaLaunch");
                if (k.workspaceBytes() > 0) {
                    ws1 = cl.allocate(k.workspaceBytes(), "workspace 1");
                    ws2 = cl.allocate(k.workspaceBytes(), "workspace 2");
                }
                k.run(args, viaCl, ws1);
                if (inPlace) {
                    // The first run updated the state arguments: the second starts from the same state.
                    for (int i = 0; i < args.size(); i++) {
                        cl.upload(hostArgs.get(i), args.get(i));
                    }
                }
                for (CudaLaunch l : c.launches()) {
                    ClLaunchRunner.run(cl, l.module() + ".cl", l.defines(), l.entry(), global(l), local(l),
                            values(l, args, viaCuda, ws2));
                }
                float[] expected = download(viaCl, k.outputShape());
                float[] actual = download(viaCuda, k.outputShape());
                for (int i = 0; i < expected.length; i++) {
                    int e = Float.floatToRawIntBits(expected[i]);
                    int a = Float.floatToRawIntBits(actual[i]);
                    if (e != a) {
                        throw new AssertionError(c + ": element " + i + " is " + actual[i] + " through the CUDA launch "
                                + "description, " + expected[i] + " through the OpenCL host");
                    }
                }
            } finally {
                for (DeviceBuffer b : args) {
                    b.close();
                }
                for (Tensor t : hostArgs) {
                    t.close();
                }
                for (DeviceBuffer b : Arrays.asList(viaCl, viaCuda, ws1, ws2)) {
                    if (b != null) {
                        b.close();
                    }
                }
            }
        }
    }

    /** The grid times the block is the OpenCL global size, the block its local size; unused CUDA dimensions are 1. */
    private static void checkSizes(CudaLaunch l, long[] global, long[] local) {
        for (int d = 0; d < 3; d++) {
            long g = d < global.length ? global[d] : 1;
            assertEquals(g, l.grid()[d] * l.block()[d], l.entry() + " global size, dimension " + d);
            if (local != null) {
                assertEquals(d < local.length ? local[d] : 1, l.block()[d], l.entry() + " local size, dimension " + d);
            }
        }
    }

    private DeviceBuffer poisoned(long bytes, String owner) {
        DeviceBuffer b = cl.allocate(bytes, owner);
        try (Tensor nan = Tensor.allocate(Shape.of((int) (bytes / Float.BYTES)), DType.F32, host, "nan").fill(Float.NaN)) {
            cl.upload(nan, b);
        }
        return b;
    }

    private DeviceBuffer random(long bytes, String owner) {
        DeviceBuffer b = cl.allocate(bytes, owner);
        try (Tensor start = Tensor.allocate(Shape.of((int) (bytes / Float.BYTES)), DType.F32, host, "start")
                .fillUniform(5, -1f, 1f)) {
            cl.upload(start, b);
        }
        return b;
    }

    private float[] download(DeviceBuffer b, Shape shape) {
        try (Tensor t = Tensor.allocate(shape, DType.F32, host, "download")) {
            cl.download(b, t);
            return t.toFloatArray();
        }
    }

    private static long[] global(CudaLaunch l) {
        return new long[] {l.grid()[0] * l.block()[0], l.grid()[1] * l.block()[1], l.grid()[2] * l.block()[2]};
    }

    private static long[] local(CudaLaunch l) {
        return new long[] {l.block()[0], l.block()[1], l.block()[2]};
    }

    /** The launch's arguments as {@link ClLaunchRunner#run} takes them. */
    private static List<Object> values(CudaLaunch l, List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer ws) {
        List<Object> out = new ArrayList<>();
        for (CudaLaunch.Arg a : l.args()) {
            out.add(switch (a) {
                case CudaLaunch.Input in -> args.get(in.index());
                case CudaLaunch.Output o -> output;
                case CudaLaunch.Workspace w -> ws;
                case CudaLaunch.None n -> null;
                case CudaLaunch.I32 v -> v.value();
                case CudaLaunch.F32 v -> v.value();
                case CudaLaunch.I64 v -> v.value();
                case CudaLaunch.I32x8 v -> v.values();
            });
        }
        return out;
    }

    @Test
    void everyEntryOfEveryKernelSourceAndEveryOpenClOpHasACase() throws ReflectiveOperationException {
        Map<String, Set<String>> planned = new TreeMap<>();
        Set<Class<?>> ops = new TreeSet<>((x, y) -> x.getName().compareTo(y.getName()));
        for (Case c : cases()) {
            ops.add(c.op().getClass());
            for (CudaLaunch l : c.launches()) {
                planned.computeIfAbsent(l.module(), m -> new TreeSet<>()).add(l.entry());
            }
        }
        for (Map.Entry<String, Set<String>> e : planned.entrySet()) {
            assertEquals(ClLaunchRunner.entries(cl, e.getKey() + ".cl"), e.getValue(),
                    "entries of " + e.getKey() + ".cl with a case");
        }
        // The op classes the OpenCL device registers (AbstractDevice's factories): CUDA mirrors them all.
        Field f = org.convkit.backend.AbstractDevice.class.getDeclaredField("factories");
        f.setAccessible(true);
        Set<String> openCl = ((Map<?, ?>) f.get(cl)).keySet().stream().map(k -> ((Class<?>) k).getName())
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(openCl, ops.stream().map(Class::getName).collect(Collectors.toCollection(TreeSet::new)));
    }

    /**
     * CudaConv2d launches what ClConv2d launches on a GPU with the same limits (the generic-GPU
     * data): the entry, the sizes, and the macros as a PTX module conv2d.cu builds, for every case
     * of the OpenCL paths' sweep and every tile shape of the table.
     */
    @Test
    void conv2dLaunchesAreTheOpenClHostsWithTheGpuData() {
        Set<String> modules = new TreeSet<>();
        modules.add(CudaConv2d.MODULE);
        for (Map<String, Integer> v : KernelSignatures.ptxVariants(PtxBuildTest.kernelSource("conv2d/conv2d.cu"))) {
            modules.add(CudaLaunch.variantModule(CudaConv2d.MODULE, v));
        }
        Map<String, Integer> defaults = Conv2dTuning.GPU.defines(Conv2dTuning.GPU.tiled().shapes().get(0));
        for (Conv2dTuning.TileShape s : Conv2dTuning.GPU.tiled().shapes()) {
            String m = CudaLaunch.variantModule(CudaConv2d.MODULE, CudaConv2d.variant(Conv2dTuning.GPU.defines(s)));
            assertTrue(modules.contains(m), s + " needs PTX module " + m + "; conv2d.cu builds " + modules);
        }
        Set<String> used = new TreeSet<>();
        for (Conv2dPlan.Limits limits : List.of(H200, ONE_SM)) {
            for (ClConv2dPathsTest.Case k : ClConv2dPathsTest.cases()) {
                Conv2dPlan p = Conv2dPlan.of(k.geometry(), Conv2dTuning.GPU, limits);
                List<CudaLaunch> ls = CudaConv2d.plan(k.conv(), k.input(), limits);
                assertEquals(1, ls.size(), k + ": launches");
                CudaLaunch l = ls.get(0);
                assertEquals(p.path().entry(), l.entry(), k + ": entry");
                checkSizes(l, p.global(), p.local());
                Map<String, Integer> macros = new TreeMap<>(defaults);
                macros.putAll(l.defines());
                assertEquals(new TreeMap<>(p.defines()), macros, k + ": macros");
                assertTrue(modules.contains(l.ptxModule()), k + ": module " + l.ptxModule() + " not among " + modules);
                used.add(l.ptxModule());
            }
        }
        for (Case c : cases()) {
            if (c.op() instanceof Conv2d) {
                c.launches().forEach(l -> used.add(l.ptxModule()));
            }
        }
        assertEquals(modules, used, "the sweep and the cases reach every conv2d module");
    }

    /** conv2d.cl and conv2d.cu default to the GPU data's values, and the .cu's variants differ from them in tile shape only. */
    @Test
    void conv2dSourcesDefaultToTheGpuData() {
        Map<String, Integer> gpu = Conv2dTuning.GPU.defines(Conv2dTuning.GPU.tiled().shapes().get(0));
        for (String source : List.of("conv2d/conv2d.cl", "conv2d/conv2d.cu")) {
            Map<String, Integer> defaults = KernelSignatures.macroDefaults(PtxBuildTest.kernelSource(source));
            for (Map.Entry<String, Integer> e : gpu.entrySet()) {
                assertEquals(e.getValue(), defaults.get(e.getKey()), source + ": default of " + e.getKey());
            }
        }
        for (Map<String, Integer> v : KernelSignatures.ptxVariants(PtxBuildTest.kernelSource("conv2d/conv2d.cu"))) {
            assertTrue(Set.of("CONV2D_TM", "CONV2D_TOH", "CONV2D_TOW").containsAll(v.keySet()), "variant " + v);
        }
    }

    @Test
    void variantModulesAreNamedAsTheBuildNamesThem() {
        assertEquals("conv2d/conv2d", CudaLaunch.variantModule("conv2d/conv2d", Map.of()));
        assertEquals("conv2d/conv2d.tm32", CudaLaunch.variantModule("conv2d/conv2d", Map.of("CONV2D_TM", 32)));
        assertEquals("conv2d/conv2d.toh4_tow32",
                CudaLaunch.variantModule("conv2d/conv2d", Map.of("CONV2D_TOW", 32, "CONV2D_TOH", 4)));
        CudaLaunch l = CudaLaunch.of("conv2d/conv2d", "conv2d_tiled", new long[] {32}, new long[] {32})
                .defines(Map.of("CONV2D_TM", 32)).build();
        assertEquals("conv2d/conv2d.tm32", l.ptxModule());
        assertEquals("conv2d/conv2d", l.module());
    }

    @Test
    void launchSizesComeFromTheOpenClSizesAndMustDivide() {
        CudaLaunch l = CudaLaunch.of("m/m", "e", new long[] {64, 12, 6}, new long[] {16, 4, 1}).ints(1).build();
        assertArrayEquals(new long[] {4, 3, 6}, l.grid());
        assertArrayEquals(new int[] {16, 4, 1}, l.block());
        assertEquals("grid 4x3x6, block 16x4x1", l.sizes());
        CudaLaunch flat = CudaLaunch.of("m/m", "e", new long[] {512}, new long[] {256}).build();
        assertArrayEquals(new long[] {2, 1, 1}, flat.grid());
        assertEquals(256, flat.threadsPerBlock());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaLaunch.of("m/m", "conv2d_fwd", new long[] {65}, new long[] {16}));
        assertTrue(e.getMessage().contains("conv2d_fwd") && e.getMessage().contains("65"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CudaLaunch.of("m/m", "e", new long[] {1, 1}, new long[] {1}));
        assertThrows(IllegalArgumentException.class, () -> new CudaLaunch.I32x8(new int[7]));
    }

    @Test
    void theDivisionMagicDividesEveryIndexExactly() {
        for (int d = 2; d < 5000; d++) {
            long[] m = CudaBinary.divisionMagic(d);
            for (long r : new long[] {0, 1, d - 1L, d, 12345, Integer.MAX_VALUE - 1L, Integer.MAX_VALUE}) {
                long q = ((r * m[0]) >>> 32) >>> m[1];
                assertEquals(r / d, q, "r=" + r + ", d=" + d);
            }
        }
    }
}
