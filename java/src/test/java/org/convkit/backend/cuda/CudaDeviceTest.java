package org.convkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import jcuda.driver.CUfunction;

import org.convkit.backend.Backends;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.DeviceException;
import org.convkit.backend.DeviceInfo;
import org.convkit.backend.Kernel;
import org.convkit.backend.KernelBuildException;
import org.convkit.backend.UnsupportedOpException;
import org.convkit.memory.Allocator;
import org.convkit.memory.OutOfDeviceMemoryException;
import org.convkit.ops.Conv2d;
import org.convkit.ops.GlobalPool2d;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The CUDA backend's own promises on a GPU: out-of-memory errors with the tree, views by offset,
 * the module cache, JIT and launch errors that carry names and sizes, the driver's memory counter.
 * Skipped where there is no CUDA device (failed when {@code CONVKIT_REQUIRE_CUDA} is set).
 */
@ExtendWith(HostLeakCheck.class)
class CudaDeviceTest {
    private static CudaDevice cuda;
    private final Allocator host = Allocator.root("cuda device test host");

    @BeforeAll
    static void open() {
        TestDevices.checkCuda();
        cuda = (CudaDevice) Backends.system().open("cuda:0");
    }

    @AfterAll
    static void close() {
        if (cuda != null) {
            TestDevices.closeAll(List.of(cuda));
        }
    }

    @AfterEach
    void hostClean() {
        host.close();
    }

    @Test
    void theDeviceIsAGpuOfCapabilityEightOrNewer() {
        DeviceInfo info = cuda.info();
        assertEquals("cuda:0", info.name());
        assertEquals(DeviceInfo.Kind.GPU, info.kind());
        assertTrue(info.computeUnits() > 0 && info.memoryBytes() > 0, info.describe());
        assertTrue(info.platform().startsWith("CUDA ") && info.platform().contains("compute capability"), info.platform());
        assertTrue(cuda.ptxArchitecture().matches("compute_[89]0"), cuda.ptxArchitecture());
        assertEquals(256, cuda.viewAlignment());
    }

    @Test
    void aBufferTheDriverRefusesIsAnOutOfMemoryErrorAndNothingLeaks() {
        OutOfDeviceMemoryException e = assertThrows(OutOfDeviceMemoryException.class,
                () -> cuda.allocate(1L << 50, "huge activation"));
        assertEquals(1L << 50, e.requestedBytes());
        assertTrue(e.getMessage().contains("huge activation") && e.getMessage().contains("cuMemAlloc returned "
                + "CUDA_ERROR_OUT_OF_MEMORY") && e.getMessage().contains("cuda:0"), e.getMessage());
        assertEquals(0, cuda.allocator().liveBytes());
    }

    @Test
    void viewsAreOffsetsIntoTheirParentForTransfersAndKernels() {
        try (Tensor src = Tensor.allocate(Shape.of(4096), DType.F32, host, "src").fillUniform(5, -1f, 1f);
                Tensor part = Tensor.allocate(Shape.of(256), DType.F32, host, "part");
                Tensor sevens = Tensor.allocate(Shape.of(256), DType.F32, host, "sevens").fill(7f);
                Tensor all = Tensor.allocate(Shape.of(4096), DType.F32, host, "all");
                DeviceBuffer arena = cuda.allocate(src.byteSize(), "arena")) {
            cuda.upload(src, arena);
            float[] s = src.toFloatArray();
            try (DeviceBuffer view = cuda.view(arena, 256, 1024, "view")) {
                assertEquals(src.byteSize(), cuda.allocator().liveBytes(), "a view is not accounted again");
                cuda.download(view, part);
                assertArrayEquals(Arrays.copyOfRange(s, 64, 320), part.toFloatArray());
            }
            try (DeviceBuffer in = cuda.view(arena, 512, 1024, "in"); DeviceBuffer out = cuda.view(arena, 8192, 1024, "out");
                    Kernel copy = cuda.prepare(org.convkit.ops.Flatten.DEFAULT, List.of(Shape.of(256, 1)))) {
                cuda.upload(sevens, in);
                copy.run(List.of(in), out);
                cuda.download(arena, all);
            }
            float[] a = all.toFloatArray();
            for (int i = 0; i < 4096; i++) {
                float expected = (i >= 128 && i < 384) || (i >= 2048 && i < 2304) ? 7f : s[i];
                assertEquals(expected, a[i], "element " + i);
            }
            IllegalArgumentException odd = assertThrows(IllegalArgumentException.class,
                    () -> cuda.view(arena, 128, 1024, "odd"));
            assertTrue(odd.getMessage().contains("not a multiple of 256"), odd.getMessage());
        }
    }

    @Test
    void eachPtxModuleIsLoadedOncePerDevice() {
        Conv2d a = Conv2d.builder(4).kernel(3).padding(Padding.SAME).build();
        Conv2d b = Conv2d.builder(9).kernel(5).stride(2).groups(3).build();
        Shape aIn = Shape.nchw(1, 3, 8, 8);
        Shape bIn = Shape.nchw(2, 6, 11, 13);
        try (Kernel k = cuda.prepare(a, List.of(aIn))) {
            int loaded = cuda.modulesLoaded();
            // conv2d's shapes share the module of their tile shape (conv2d.cu's defaults or a ptx-variant).
            String aModule = CudaConv2d.plan(a, aIn, cuda.conv2dLimits()).get(0).ptxModule();
            String bModule = CudaConv2d.plan(b, bIn, cuda.conv2dLimits()).get(0).ptxModule();
            int expected = loaded + (aModule.equals(bModule) ? 0 : 1);
            try (Kernel k2 = cuda.prepare(b, List.of(bIn)); Kernel k3 = cuda.prepare(a, List.of(aIn))) {
                assertEquals(expected, cuda.modulesLoaded(), "conv2d modules " + aModule + ", " + bModule
                        + " loaded once each");
                assertEquals(Shape.nchw(2, 9, 4, 5), k2.outputShape());
                assertEquals(k.outputShape(), k3.outputShape());
            }
            try (Kernel pool = cuda.prepare(Pool2d.max(2).stride(2).padding(Padding.VALID).build(),
                    List.of(Shape.nchw(1, 3, 8, 8)));
                    Kernel global = cuda.prepare(GlobalPool2d.avg(), List.of(Shape.nchw(1, 3, 8, 8)))) {
                assertTrue(cuda.modulesLoaded() <= expected + 1, "pooling and global pooling share pool2d's module");
                assertEquals(Shape.nchw(1, 3, 1, 1), global.outputShape());
                assertEquals(Shape.nchw(1, 3, 4, 4), pool.outputShape());
            }
            assertEquals(Shape.nchw(1, 4, 8, 8), k.outputShape());
        }
    }

    @Test
    void ptxTheDriverRejectsIsABuildErrorWithTheJitLog() {
        byte[] broken = ".version 8.0\n.target sm_80\n.address_size 64\n.visible .entry broken() { undefined_op; }\n"
                .getBytes(StandardCharsets.US_ASCII);
        KernelBuildException e = assertThrows(KernelBuildException.class,
                () -> cuda.load("broken/broken." + cuda.ptxArchitecture() + ".ptx", broken));
        assertEquals("cuModuleLoadDataEx", e.call());
        assertTrue(e.errorName().startsWith("CUDA_ERROR_"), e.errorName());
        assertTrue(e.getMessage().contains("broken/broken") && e.getMessage().contains("cuda:0"), e.getMessage());
        assertTrue(!e.buildLog().isBlank(), "the JIT's log");
        IllegalStateException missing = assertThrows(IllegalStateException.class, () -> cuda.function("nope/nope", "x"));
        assertTrue(missing.getMessage().contains("kernels/nope/nope." + cuda.ptxArchitecture() + ".ptx"),
                missing.getMessage());
    }

    @Test
    void aLaunchTheDriverRefusesNamesTheCallTheErrorAndTheSizes() {
        CUfunction f = cuda.function(CudaCopy.MODULE, CudaCopy.ENTRY);
        CudaLaunch empty = CudaLaunch.of(CudaCopy.MODULE, CudaCopy.ENTRY, new long[] {0}, new long[] {256})
                .input(0).output().ints(0).build();
        try (DeviceBuffer x = cuda.allocate(1024, "x"); DeviceBuffer y = cuda.allocate(1024, "y")) {
            DeviceException e = assertThrows(DeviceException.class,
                    () -> cuda.launch(f, empty, empty.parameters(List.of(x), y, null), "copy_f32 test"));
            assertEquals("cuLaunchKernel", e.call());
            assertEquals("CUDA_ERROR_INVALID_VALUE", e.errorName());
            assertTrue(e.getMessage().contains("copy_f32 test, grid 0x1x1, block 256x1x1"), e.getMessage());
            cuda.synchronize();
        }
    }

    @Test
    void launchesBeyondTheDevicesLimitsAreRefusedByNameBeforeAnyNativeCall() {
        CudaLaunch tall = CudaLaunch.of("m/m", "tall", new long[] {64, 70_000}, new long[] {64, 1}).build();
        UnsupportedOpException e = assertThrows(UnsupportedOpException.class, () -> cuda.checkLaunch(tall, "case(x)"));
        assertTrue(e.getMessage().contains("cuda:0 cannot run case(x)") && e.getMessage().contains("grid 1x70000x1")
                && e.getMessage().contains("65535"), e.getMessage());
        CudaLaunch wide = CudaLaunch.of("m/m", "wide", new long[] {4096}, new long[] {4096}).build();
        assertThrows(UnsupportedOpException.class, () -> cuda.checkLaunch(wide, "case(y)"));
    }

    @Test
    void theDriversCounterSeesABufferAndItsRelease() {
        CudaDevice.MemoryInfo before = cuda.memoryInfo();
        assertTrue(before.totalBytes() > 0 && before.freeBytes() <= before.totalBytes(), before.toString());
        long bytes = 64L << 20;
        long during;
        try (DeviceBuffer b = cuda.allocate(bytes, "64 MiB")) {
            assertEquals(bytes, b.bytes());
            during = cuda.memoryInfo().usedBytes() - before.usedBytes();
        }
        long after = cuda.memoryInfo().usedBytes() - before.usedBytes();
        assertTrue(during >= bytes && during <= bytes + 2 * CudaDevice.TYPICAL_GRANULARITY,
                "driver counted " + during + " B for a 64 MiB buffer");
        assertTrue(Math.abs(after) <= 2 * CudaDevice.TYPICAL_GRANULARITY, "driver still counts " + after + " B after it");
    }

    @Test
    void aDeviceMayBeDrivenFromAnotherThread() throws Exception {
        try (Tensor src = Tensor.allocate(Shape.of(1000), DType.F32, host, "src").fillUniform(9, -1f, 1f);
                Tensor dst = Tensor.allocate(Shape.of(1000), DType.F32, host, "dst");
                DeviceBuffer b = cuda.allocate(src.byteSize(), "b")) {
            CompletableFuture.runAsync(() -> cuda.upload(src, b)).get();
            cuda.download(b, dst);
            assertArrayEquals(src.toFloatArray(), dst.toFloatArray());
        }
    }
}
