package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;

import org.convkit.memory.Allocator;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Op;
import org.convkit.ops.Padding;
import org.convkit.tensor.Compare;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** What every device promises: transfers, accounting, argument checks before native calls, clean close. */
@ExtendWith(HostLeakCheck.class)
class DeviceContractTest {
    private final Allocator host = Allocator.root("contract host");

    static Stream<String> devices() {
        return TestDevices.all().stream().map(DeviceInfo::name);
    }

    @AfterEach
    void hostClean() {
        host.close();
    }

    private static Device open(String name) {
        return Backends.system().open(name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void uploadThenDownloadIsExactAndAccounted(String name) {
        try (Device d = open(name);
                Tensor src = Tensor.allocate(Shape.nchw(2, 3, 17, 19), DType.F32, host, "src").fillUniform(1, -5f, 5f);
                Tensor dst = Tensor.allocate(src.shape(), DType.F32, host, "dst").fill(Float.NaN)) {
            Allocator child = d.allocator().child("test");
            try (DeviceBuffer b = d.allocate(src.byteSize(), child, "roundtrip")) {
                assertEquals(src.byteSize(), child.liveBytes());
                assertEquals(src.byteSize(), d.allocator().liveBytes());
                assertSame(d, b.device());
                d.upload(src, b);
                d.download(b, dst);
                assertEquals(0.0, Compare.maxRelativeDifference(dst, src));
            }
            assertEquals(0, d.allocator().liveBytes());
            child.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void transfersCheckSizesOwnershipAndState(String name) {
        try (Device d = open(name); Device other = open(name);
                Tensor big = Tensor.allocate(Shape.of(64), DType.F32, host, "big");
                DeviceBuffer small = d.allocate(16, "small");
                DeviceBuffer foreign = other.allocate(256, "foreign")) {
            IllegalArgumentException up = assertThrows(IllegalArgumentException.class, () -> d.upload(big, small));
            assertTrue(up.getMessage().contains(name) && up.getMessage().contains("smaller buffer"), up.getMessage());
            IllegalArgumentException down = assertThrows(IllegalArgumentException.class, () -> d.download(small, big));
            assertTrue(down.getMessage().contains("larger tensor"), down.getMessage());
            IllegalArgumentException own = assertThrows(IllegalArgumentException.class, () -> d.upload(big, foreign));
            assertTrue(own.getMessage().contains("belongs to"), own.getMessage());
            IllegalArgumentException alloc = assertThrows(IllegalArgumentException.class,
                    () -> d.allocate(8, other.allocator(), "x"));
            assertTrue(alloc.getMessage().contains("does not belong"), alloc.getMessage());
            DeviceBuffer gone = d.allocate(256, "gone");
            gone.close();
            gone.close();
            IllegalArgumentException closed = assertThrows(IllegalArgumentException.class, () -> d.upload(big, gone));
            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void kernelsCheckTheirArgumentsBeforeAnyNativeCall(String name) {
        Conv2d conv = Conv2d.builder(4).kernel(3).padding(Padding.SAME).build();
        Shape in = Shape.nchw(1, 2, 5, 5);
        try (Device d = open(name); Kernel k = d.prepare(conv, List.of(in));
                DeviceBuffer x = d.allocate(in.byteSize(DType.F32), "x");
                DeviceBuffer w = d.allocate(conv.weightShape(in).byteSize(DType.F32), "w");
                DeviceBuffer b = d.allocate(16, "b");
                DeviceBuffer y = d.allocate(k.outputShape().byteSize(DType.F32), "y");
                DeviceBuffer tiny = d.allocate(4, "tiny")) {
            assertSame(d, k.device());
            assertEquals(List.of(in, Shape.of(4, 2, 3, 3), Shape.of(4)), k.argumentShapes());
            IllegalArgumentException count = assertThrows(IllegalArgumentException.class, () -> k.run(List.of(x, w), y));
            assertTrue(count.getMessage().contains("expected 3 argument buffers"), count.getMessage());
            IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> k.run(List.of(x, tiny, b), y));
            assertTrue(size.getMessage().contains("argument 1") && size.getMessage().contains("4x2x3x3"), size.getMessage());
            IllegalArgumentException out = assertThrows(IllegalArgumentException.class, () -> k.run(List.of(x, w, b), tiny));
            assertTrue(out.getMessage().contains("output of shape 1x4x5x5"), out.getMessage());
            IllegalArgumentException alias = assertThrows(IllegalArgumentException.class, () -> k.run(List.of(y, w, b), y));
            assertTrue(alias.getMessage().contains("also an argument"), alias.getMessage());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void unsupportedOpsAndBadShapesAreRefusedByName(String name) {
        Op mystery = new Op() {
            @Override
            public String name() {
                return "mystery";
            }

            @Override
            public Shape outputShape(List<Shape> inputs) {
                return inputs.get(0);
            }

            @Override
            public List<Shape> parameterShapes(List<Shape> inputs) {
                return List.of();
            }

            @Override
            public long flops(List<Shape> inputs) {
                return 0;
            }

            @Override
            public String describe(List<Shape> inputs) {
                return "mystery(" + inputs.get(0) + ")";
            }
        };
        try (Device d = open(name)) {
            UnsupportedOpException e = assertThrows(UnsupportedOpException.class, () -> d.prepare(mystery, List.of(Shape.of(3))));
            assertTrue(e.getMessage().contains(name) && e.getMessage().contains("mystery"), e.getMessage());
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> d.prepare(Conv2d.builder(4).groups(2).build(), List.of(Shape.nchw(1, 3, 4, 4))));
            assertTrue(shape.getMessage().contains("groups 2"), shape.getMessage());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void closingWithLiveBuffersNamesThemAndKeepsTheDeviceUsable(String name) {
        Device d = open(name);
        DeviceBuffer forgotten = d.allocate(1000, "forgotten activation");
        IllegalStateException e = assertThrows(IllegalStateException.class, d::close);
        assertTrue(e.getMessage().contains("forgotten activation") && e.getMessage().contains("1,000 B"), e.getMessage());
        forgotten.close();
        d.close();
        assertThrows(IllegalStateException.class, () -> d.allocate(4, "late"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void viewsShareTheirParentsMemoryAndCostNothing(String name) {
        try (Device d = open(name)) {
            long align = d.viewAlignment();
            assertTrue(align >= 4 && Long.bitCount(align) == 1, "alignment " + align);
            try (DeviceBuffer arena = d.allocate(4 * align, "arena");
                    Tensor part = Tensor.allocate(Shape.of((int) (align / 4)), DType.F32, host, "part").fillUniform(2, -1f, 1f);
                    Tensor whole = Tensor.allocate(Shape.of((int) align), DType.F32, host, "whole").fill(0f)) {
                d.upload(whole, arena);
                try (DeviceBuffer v = d.view(arena, 2 * align, align, "conv1 output")) {
                    assertTrue(v.isView());
                    assertEquals(align, v.bytes());
                    assertEquals(4 * align, d.allocator().liveBytes(), "a view is not accounted again");
                    d.upload(part, v);
                    IllegalArgumentException nested = assertThrows(IllegalArgumentException.class,
                            () -> d.view(v, 0, 4, "nested"));
                    assertTrue(nested.getMessage().contains("view of a view"), nested.getMessage());
                }
                d.download(arena, whole);
                int base = (int) (2 * align / 4);
                for (int i = 0; i < align / 4; i++) {
                    assertEquals(part.get(i), whole.get(base + i), "element " + i + " lands at offset 2*alignment");
                }
                assertEquals(0f, whole.get(base - 1));
                IllegalArgumentException misaligned = assertThrows(IllegalArgumentException.class,
                        () -> d.view(arena, align / 2, 4, "x"));
                assertTrue(misaligned.getMessage().contains("not a multiple"), misaligned.getMessage());
                IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
                        () -> d.view(arena, 3 * align, 2 * align, "x"));
                assertTrue(outside.getMessage().contains("does not fit"), outside.getMessage());
            }
        }
    }
    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void hostViewsLetKernelsUseHostTensorsWhereTheDeviceSharesHostMemory(String name) {
        Conv2d conv = Conv2d.builder(4).kernel(3).padding(Padding.SAME).build();
        Shape in = Shape.nchw(1, 2, 5, 5);
        try (Device d = open(name); Kernel k = d.prepare(conv, List.of(in));
                Tensor x = Tensor.allocate(in, DType.F32, host, "x").fillUniform(3, -1f, 1f);
                Tensor w = Tensor.allocate(conv.weightShape(in), DType.F32, host, "w").fillUniform(4, -1f, 1f);
                Tensor b = Tensor.allocate(Shape.of(4), DType.F32, host, "b").fillUniform(5, -1f, 1f);
                Tensor y = Tensor.allocate(k.outputShape(), DType.F32, host, "y").fill(Float.NaN);
                Tensor expected = Tensor.allocate(k.outputShape(), DType.F32, host, "expected").fill(Float.NaN)) {
            if (!d.sharesHostMemory()) {
                UnsupportedOperationException no = assertThrows(UnsupportedOperationException.class, () -> d.hostView(x, "x"));
                assertTrue(no.getMessage().contains(name) && no.getMessage().contains("upload"), no.getMessage());
                return;
            }
            try (DeviceBuffer dx = d.allocate(x.byteSize(), "dx"); DeviceBuffer dw = d.allocate(w.byteSize(), "dw");
                    DeviceBuffer db = d.allocate(b.byteSize(), "db"); DeviceBuffer dy = d.allocate(y.byteSize(), "dy")) {
                d.upload(x, dx);
                d.upload(w, dw);
                d.upload(b, db);
                k.run(List.of(dx, dw, db), dy);
                d.download(dy, expected);
            }
            long live = d.allocator().liveBytes();
            try (DeviceBuffer vx = d.hostView(x, "x"); DeviceBuffer vw = d.hostView(w, "w");
                    DeviceBuffer vb = d.hostView(b, "b"); DeviceBuffer vy = d.hostView(y, "y")) {
                assertTrue(vy.isView());
                assertEquals(y.byteSize(), vy.bytes());
                assertEquals(live, d.allocator().liveBytes(), "a host view is not accounted on the device");
                k.run(List.of(vx, vw, vb), vy);
            }
            assertEquals(0.0, Compare.maxRelativeDifference(y, expected), "the kernel wrote the host tensor in place");
            Tensor closed = Tensor.allocate(in, DType.F32, host, "closed");
            closed.close();
            IllegalArgumentException gone = assertThrows(IllegalArgumentException.class, () -> d.hostView(closed, "x"));
            assertTrue(gone.getMessage().contains("closed"), gone.getMessage());
        }
    }
}
