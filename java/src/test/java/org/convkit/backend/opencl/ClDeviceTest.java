package org.convkit.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.convkit.backend.Backends;
import org.convkit.backend.DeviceException;
import org.convkit.backend.Kernel;
import org.convkit.backend.KernelBuildException;
import org.convkit.memory.OutOfDeviceMemoryException;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
import org.convkit.tensor.Shape;
import org.convkit.testing.TestDevices;
import org.jocl.CL;
import org.jocl.cl_kernel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The OpenCL backend's own promises: program cache, errors that carry names, build logs and sizes. */
class ClDeviceTest {
    private static ClDevice cl;

    @BeforeAll
    static void open() {
        TestDevices.checkOpenCl();
        cl = (ClDevice) Backends.system().open("opencl:0");
    }

    @AfterAll
    static void close() {
        if (cl != null) {
            TestDevices.closeAll(List.of(cl));
        }
    }

    @Test
    void eachProgramIsBuiltOncePerOptionSet() {
        // a takes conv2d_tiled with the first tile shape and b the direct kernel: both entries are in
        // the program built for that shape (another shape, a different program).
        Conv2d a = Conv2d.builder(64).kernel(3).padding(Padding.SAME).build();
        Conv2d b = Conv2d.builder(9).kernel(5).stride(2).groups(3).build();
        try (Kernel k = cl.prepare(a, List.of(Shape.nchw(1, 3, 32, 32)))) {
            int after = cl.programBuilds();
            assertTrue(after >= 1, "the first conv2d built its program");
            try (Kernel k2 = cl.prepare(b, List.of(Shape.nchw(2, 6, 11, 13)));
                    Kernel k3 = cl.prepare(a, List.of(Shape.nchw(1, 3, 32, 32)))) {
                assertEquals(after, cl.programBuilds(), "conv2d shapes share one program");
                assertEquals(Shape.nchw(2, 9, 4, 5), k2.outputShape());
                assertEquals(k.outputShape(), k3.outputShape());
            }
        }
        cl.program(ClConv2d.SOURCE, Map.of("CONV2D_TILE_W", 8, "CONV2D_TILE_H", 8));
        int withOther = cl.programBuilds();
        cl.program(ClConv2d.SOURCE, Map.of("CONV2D_TILE_H", 8, "CONV2D_TILE_W", 8));
        assertEquals(withOther, cl.programBuilds(), "define order does not matter");
    }

    @Test
    void aBuildFailureCarriesTheLogTheSourceAndTheOptions() {
        KernelBuildException e = assertThrows(KernelBuildException.class,
                () -> cl.build("broken/broken.cl", "__kernel void broken(__global float* y) { y[0] = undefined_name; }",
                        ClDevice.BASE_OPTIONS));
        assertEquals("clBuildProgram", e.call());
        assertTrue(e.errorName().equals("CL_BUILD_PROGRAM_FAILURE"), e.errorName());
        assertTrue(e.buildLog().contains("undefined_name"), e.buildLog());
        assertTrue(e.getMessage().contains("broken/broken.cl") && e.getMessage().contains("-cl-std=CL1.2")
                && e.getMessage().contains("opencl:0"), e.getMessage());
    }

    @Test
    void kernelSourcesInlineTheirIncludesWithLineMarkers() {
        String src = KernelSources.load(ClConv2d.SOURCE);
        assertTrue(src.contains("#line 1 \"common/convkit.h\"") && src.contains("ck_activate")
                && src.contains("__kernel void conv2d_fwd"), src);
        assertTrue(!src.contains("#include"), "every include is inlined");
        IllegalStateException missing = assertThrows(IllegalStateException.class, () -> KernelSources.load("nope/nope.cl"));
        assertTrue(missing.getMessage().contains("kernels/nope/nope.cl"), missing.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KernelSources.load("../pom.xml"));
    }

    @Test
    void aFailedLaunchNamesTheCallTheErrorAndTheWorkSizes() {
        cl_kernel k = cl.kernel(cl.program(ClConv2d.SOURCE, Map.of("CONV2D_TILE_W", ClConv2d.TILE_W,
                "CONV2D_TILE_H", ClConv2d.TILE_H)), ClConv2d.ENTRY);
        try {
            // The kernel requires a 16x4 work-group and has no arguments set: the driver refuses.
            DeviceException e = assertThrows(DeviceException.class,
                    () -> cl.launch(k, "conv2d_fwd test", new long[] {21, 7, 3}, new long[] {7, 7, 1}));
            assertEquals("clEnqueueNDRangeKernel", e.call());
            assertTrue(e.errorName().startsWith("CL_INVALID_"), e.errorName());
            assertTrue(e.getMessage().contains("global 21x7x3") && e.getMessage().contains("local 7x7x1")
                    && e.getMessage().contains("conv2d_fwd test"), e.getMessage());
        } finally {
            CL.clReleaseKernel(k);
        }
    }

    @Test
    void aBufferTheDriverRefusesIsAnOutOfMemoryErrorAndNothingLeaks() {
        OutOfDeviceMemoryException e = assertThrows(OutOfDeviceMemoryException.class,
                () -> cl.allocate(1L << 50, "huge activation"));
        assertEquals(1L << 50, e.requestedBytes());
        assertTrue(e.getMessage().contains("huge activation") && e.getMessage().contains("clCreateBuffer"), e.getMessage());
        assertEquals(0, cl.allocator().liveBytes());
    }

    @Test
    void errorCodesHaveTheirSymbolicNames() {
        assertEquals("CL_OUT_OF_RESOURCES", Cl.errorName(CL.CL_OUT_OF_RESOURCES));
        assertEquals("CL_PLATFORM_NOT_FOUND_KHR", Cl.errorName(-1001));
        assertEquals("CL_UNKNOWN_ERROR", Cl.errorName(-987654));
    }

    @Test
    void outOfMemoryOnFirstUseIsAnOutOfMemoryErrorToo() {
        // Drivers may allocate on first use: the codes a transfer or launch can return then.
        OutOfDeviceMemoryException launch = assertThrows(OutOfDeviceMemoryException.class, () -> Cl.checkUse(
                CL.CL_MEM_OBJECT_ALLOCATION_FAILURE, "opencl:0", "clEnqueueNDRangeKernel", "conv2d_fwd ...", -1,
                "conv2d_fwd", "tree"));
        assertEquals(-1, launch.requestedBytes());
        assertTrue(launch.getMessage().contains("deferred allocation") && launch.getMessage().contains(
                "CL_MEM_OBJECT_ALLOCATION_FAILURE") && !launch.getMessage().contains("asked for"), launch.getMessage());
        OutOfDeviceMemoryException write = assertThrows(OutOfDeviceMemoryException.class, () -> Cl.checkUse(
                CL.CL_OUT_OF_RESOURCES, "opencl:0", "clEnqueueWriteBuffer", "conv1", 6_000_000, "conv1", "tree"));
        assertTrue(write.getMessage().contains("6,000,000 B"), write.getMessage());
        DeviceException other = assertThrows(DeviceException.class, () -> Cl.checkUse(CL.CL_INVALID_KERNEL_ARGS,
                "opencl:0", "clEnqueueNDRangeKernel", "x", -1, "x", "tree"));
        assertEquals("CL_INVALID_KERNEL_ARGS", other.errorName(), "other errors stay device errors");
        Cl.checkUse(CL.CL_SUCCESS, "opencl:0", "clFinish", "", -1, "", "");
    }

    @Test
    void launchesGoThroughPanamaDowncallsWhereTheLoaderIsReachable() {
        // Every other OpenCL test then exercises the downcalls; JOCL remains the fallback elsewhere.
        boolean loader = java.nio.file.Files.exists(java.nio.file.Path.of("/usr/lib/x86_64-linux-gnu/libOpenCL.so.1"))
                || java.nio.file.Files.exists(java.nio.file.Path.of("/usr/lib64/libOpenCL.so.1"));
        org.junit.jupiter.api.Assumptions.assumeTrue(loader, "no libOpenCL.so.1 in the usual places");
        assertTrue(ClNative.AVAILABLE, "the Panama fast path did not start");
    }
}
