package org.convkit.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;

import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.backend.SeparableConv2dConsistencyTest;
import org.convkit.memory.Allocator;
import org.convkit.ops.Conv2d;
import org.convkit.ops.SeparableConv2d;
import org.convkit.ops.ref.SeparableConv2dRef;
import org.convkit.tensor.Compare;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The CPU sepconv2d paths ({@link CpuSeparableConv2d.Path}): the sweep of
 * {@link SeparableConv2dConsistencyTest} takes the vector path, in ranges of vectors and of
 * whole 96-position blocks (on two threads, fixed here since ranges depend on the count); every sweep case also runs on the direct loops against the
 * reference; the system property selects them; the packed pointwise weights follow writes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(HostLeakCheck.class)
class CpuSeparableConv2dPathsTest {
    /** Two threads (the development machine's count) everywhere, so that ranges and choices do not vary. */
    private static final int THREADS = 2;
    private CpuDevice device;

    @BeforeAll
    void open() {
        device = CpuBackend.open(0, THREADS);
    }

    @AfterAll
    void close() {
        device.close();
    }

    private static Conv2d.Geometry depthwise(SeparableConv2dConsistencyTest.Case c) {
        return c.op().depthwise(c.input()).geometry(c.input());
    }

    @Test
    void theSweepTakesTheVectorPath() {
        List<SeparableConv2dConsistencyTest.Case> cases = SeparableConv2dConsistencyTest.cases();
        int threads = THREADS;
        long vector = 0;
        long blocks = 0;
        for (SeparableConv2dConsistencyTest.Case c : cases) {
            Conv2d.Geometry g = depthwise(c);
            if (CpuSeparableConv2d.path(g, c.op().outChannels(), threads) == CpuSeparableConv2d.Path.VECTOR) {
                vector++;
                if (CpuSeparableConv2d.ranges(g, c.op().outChannels(), threads).step() == SpatialGemm.BLOCK) {
                    blocks++;
                }
            }
            try (Kernel k = device.prepare(c.op(), List.of(c.input()))) {
                assertEquals(CpuSeparableConv2d.Path.VECTOR, ((CpuSeparableConv2d) k).path(), c.toString());
            }
        }
        assertEquals(cases.size(), vector, "cases on the vector path");
        assertTrue(blocks >= 2, "cases in ranges of whole 96-position blocks: " + blocks);
    }

    @TestFactory
    Stream<DynamicTest> bothPathsMatchTheReference() {
        return SeparableConv2dConsistencyTest.cases().stream().flatMap(c -> Stream.of(CpuSeparableConv2d.Path.values())
                .map(path -> DynamicTest.dynamicTest("cpu " + path + " " + c, () -> {
                    try (Kernel k = new CpuSeparableConv2d(device, c.op(), List.of(c.input()), path)) {
                        OpHarness.check(k, args -> SeparableConv2dRef.forward(c.op(), c.input(), args), 1e-5);
                    }
                })));
    }

    @Test
    void theSystemPropertySelectsTheDirectLoops() {
        SeparableConv2d op = SeparableConv2d.builder(8).build();
        List<Shape> in = List.of(Shape.nchw(1, 4, 9, 9));
        System.setProperty(CpuConv2d.PATH_PROPERTY, "direct");
        try (Kernel k = device.prepare(op, in)) {
            assertEquals(CpuSeparableConv2d.Path.DIRECT, ((CpuSeparableConv2d) k).path());
        } finally {
            System.clearProperty(CpuConv2d.PATH_PROPERTY);
        }
    }

    @Test
    void packedPointwiseWeightsFollowUploads() {
        SeparableConv2d op = SeparableConv2d.builder(12).build();
        Shape in = Shape.nchw(1, 5, 7, 9);
        List<Shape> params = op.parameterShapes(List.of(in));
        Allocator host = Allocator.root("sepconv packing test");
        try (CpuSeparableConv2d fast = new CpuSeparableConv2d(device, op, List.of(in), CpuSeparableConv2d.Path.VECTOR);
                CpuSeparableConv2d direct = new CpuSeparableConv2d(device, op, List.of(in), CpuSeparableConv2d.Path.DIRECT);
                Tensor x = Tensor.allocate(in, DType.F32, host, "x").fillUniform(1, -1f, 1f);
                Tensor dw = Tensor.allocate(params.get(0), DType.F32, host, "dw").fillUniform(2, -1f, 1f);
                Tensor pw1 = Tensor.allocate(params.get(1), DType.F32, host, "pw1").fillUniform(3, -1f, 1f);
                Tensor pw2 = Tensor.allocate(params.get(1), DType.F32, host, "pw2").fillUniform(4, -1f, 1f);
                Tensor pb = Tensor.allocate(params.get(2), DType.F32, host, "pb").fillUniform(5, -1f, 1f);
                Tensor got = Tensor.allocate(fast.outputShape(), DType.F32, host, "got");
                Tensor want = Tensor.allocate(fast.outputShape(), DType.F32, host, "want");
                DeviceBuffer xb = device.allocate(x.byteSize(), "x");
                DeviceBuffer dwb = device.allocate(dw.byteSize(), "dw");
                DeviceBuffer pwb = device.allocate(pw1.byteSize(), "pw");
                DeviceBuffer pbb = device.allocate(pb.byteSize(), "pb");
                DeviceBuffer yf = device.allocate(got.byteSize(), "y fast");
                DeviceBuffer yd = device.allocate(got.byteSize(), "y direct")) {
            device.upload(x, xb);
            device.upload(dw, dwb);
            device.upload(pb, pbb);
            for (Tensor pw : List.of(pw1, pw2, pw2)) {
                device.upload(pw, pwb);
                fast.run(List.of(xb, dwb, pwb, pbb), yf);
                direct.run(List.of(xb, dwb, pwb, pbb), yd);
                device.download(yf, got);
                device.download(yd, want);
                assertTrue(Compare.maxRelativeDifference(got, want) < 1e-5, "stale pointwise weights");
            }
            fast.run(List.of(xb, dwb, pwb, pbb), yf);
            assertEquals(3, fast.weightPacks(), "one packing per upload, none for a run alone");
        } finally {
            host.close();
        }
    }
}
