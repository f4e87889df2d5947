package org.convkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import org.convkit.backend.Backends;
import org.convkit.backend.DeviceException;
import org.convkit.backend.cpu.CpuBackend;
import org.convkit.backend.opencl.OpenClBackend;
import org.convkit.memory.OutOfDeviceMemoryException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA backend where there may be no GPU: how it reports that it cannot start, how JCuda's own
 * library is found on the module path, and the pieces that need no driver (error names, PTX
 * names). The GPU side is in {@code CudaDeviceTest} and the consistency sweeps.
 */
class CudaBackendTest {
    /** Whether the NVIDIA driver's library can be loaded here, the way JCuda's library loads it. */
    @SuppressWarnings("restricted")
    private static boolean driverLoadable() {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup.libraryLookup("libcuda.so.1", arena);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static void assumeNoDriver() {
        Assumptions.assumeFalse(driverLoadable(), "libcuda.so.1 loads here: the no-driver path is not checked");
    }

    @Test
    void withoutTheDriverCudaIsUnavailableForThatReasonAndEverythingElseWorks() {
        assumeNoDriver();
        Backends b = Backends.system();
        assertFalse(b.has("cuda"));
        String reason = b.unavailable().get("cuda");
        assertTrue(reason != null && reason.startsWith(JCudaNatives.NO_DRIVER + ": libcuda.so.1 could not be loaded"),
                "JCuda's own library loaded; only the driver is missing: " + reason);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.open("cuda:0"));
        assertTrue(e.getMessage().contains("'cuda:0'") && e.getMessage().contains("unavailable")
                && e.getMessage().contains("libcuda.so.1"), e.getMessage());
        assertNotEquals("cuda", b.best().backend());
        Backends withoutCuda = Backends.of(List.of(new CpuBackend(), new OpenClBackend()));
        assertEquals(withoutCuda.best().name(), b.best().name(), "best is what it was without CUDA");
        assertEquals(withoutCuda.names(), b.names());
    }

    @Test
    void onTheModulePathJCudasLibraryIsFoundInAFreshTempFolder(@TempDir Path tmp) throws Exception {
        // The ./convkit launcher's layout: the exploded org.convkit module and every jar on the
        // module path. JCuda would find an earlier unpacked copy of its library in a used temp
        // folder and hide the module-path problem, so the child JVM gets an empty one.
        List<String> modulePath = List.of(location(CudaBackend.class), location(JCudaDriver.class),
                location(org.jocl.CL.class), jarOf("lib/" + JCudaNatives.libraryFileName()));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=org.convkit,jocl,jcuda", "--add-modules", "jdk.incubator.vector",
                "-Djava.io.tmpdir=" + tmp, "-Dconvkit.native.dir=" + tmp.resolve("native"),
                "-p", String.join(java.io.File.pathSeparator, modulePath),
                "-m", "org.convkit/org.convkit.cli.Main", "devices"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "convkit devices did not finish:\n" + out);
        assertFalse(out.contains("No resource found") || out.contains("jcuda-natives"),
                "JCuda's own library was not found on the module path:\n" + out);
        assertTrue(Files.isRegularFile(tmp.resolve("native").resolve(JCudaNatives.libraryFileName())),
                "unpacked in convkit's private folder, where JCuda looks while it loads:\n" + out);
        assertFalse(Files.exists(tmp.resolve(JCudaNatives.libraryFileName())), "nothing in the shared temp folder");
        if (driverLoadable()) {
            assertTrue(out.contains("cuda:0") || out.contains("cuda: no CUDA device"), out);
        } else {
            assertTrue(out.contains("cuda: " + JCudaNatives.NO_DRIVER + ": libcuda.so.1 could not be loaded"), out);
        }
    }

    /** The folder or jar a class was loaded from. */
    private static String location(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    /** The jar holding a resource (the jcuda-natives jar for JCuda's library). */
    private static String jarOf(String resource) {
        URL url = ClassLoader.getSystemClassLoader().getResource(resource);
        assertTrue(url != null && url.getProtocol().equals("jar"), "resource " + resource + " at " + url);
        String file = url.getPath().substring(0, url.getPath().indexOf("!/"));
        return Path.of(URI.create(file)).toString();
    }

    @Test
    void anUnpackedLibraryThatDiffersIsReplacedAndAnIdenticalOneKept(@TempDir Path tmp) throws IOException {
        String file = JCudaNatives.libraryFileName();
        Path target = tmp.resolve(file);
        Files.write(target, new byte[] {0x7f, 'E', 'L'});
        JCudaNatives.unpack(file, target);
        byte[] expected;
        try (InputStream in = ClassLoader.getSystemClassLoader().getResourceAsStream("lib/" + file)) {
            expected = in.readAllBytes();
        }
        assertArrayEquals(expected, Files.readAllBytes(target), "a truncated earlier copy is replaced");
        long modified = Files.getLastModifiedTime(target).toMillis();
        Files.setLastModifiedTime(target, java.nio.file.attribute.FileTime.fromMillis(modified - 60_000));
        JCudaNatives.unpack(file, target);
        assertEquals(modified - 60_000, Files.getLastModifiedTime(target).toMillis(), "an identical copy is kept");
        try (var listing = Files.list(tmp)) {
            assertEquals(List.of(target), listing.toList(), "no partial file left behind");
        }
    }

    @Test
    void loadFailuresBecomeOneActionableLine() {
        String file = "libJCudaDriver-12.6.0-linux-x86_64.so";
        UnsatisfiedLinkError noDriver = new UnsatisfiedLinkError("Error while loading native library \"JCudaDriver\"\n"
                + "Stack trace from the attempt to load the library as a file:\n"
                + "java.lang.UnsatisfiedLinkError: no JCudaDriver-12.6.0-linux-x86_64 in java.library.path: /usr/lib\n"
                + "Stack trace from the attempt to load the library as a resource:\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/" + file + ": libcuda.so.1: cannot open shared object file: "
                + "No such file or directory\n");
        assertEquals("no CUDA driver: libcuda.so.1 could not be loaded (cannot open shared object file: No such file or "
                + "directory); install the NVIDIA driver to use CUDA devices", JCudaNatives.reasonFor(noDriver, file));
        UnsatisfiedLinkError noNatives = new UnsatisfiedLinkError("Error while loading native library \"JCudaDriver\"\n"
                + "java.io.IOException: No resource found with name '/lib/" + file + "'\n");
        String reason = JCudaNatives.reasonFor(noNatives, file);
        assertTrue(reason.startsWith("JCuda's native library " + file + " is neither on java.library.path nor in a "
                + "jcuda-natives jar") && reason.contains("org.jcuda:jcuda-natives:"), reason);
        String other = JCudaNatives.reasonFor(new UnsatisfiedLinkError("/tmp/" + file + ": invalid ELF header\nmore"), file);
        assertEquals("JCuda's native library " + file + " could not be loaded: java.lang.UnsatisfiedLinkError: /tmp/"
                + file + ": invalid ELF header", other);
    }

    @Test
    void errorCodesHaveTheirNamesAndOutOfMemoryIsAnOutOfMemoryError() {
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", Cuda.errorName(CUresult.CUDA_ERROR_OUT_OF_MEMORY));
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", Cuda.errorName(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS));
        assertEquals("CUDA_ERROR_UNKNOWN", Cuda.errorName(123_456));
        OutOfDeviceMemoryException oom = assertThrows(OutOfDeviceMemoryException.class, () -> Cuda.checkAllocation(
                CUresult.CUDA_ERROR_OUT_OF_MEMORY, "cuda:0", "cuMemAlloc", 1L << 40, "conv1", "cuda:0 tree"));
        assertEquals(1L << 40, oom.requestedBytes());
        assertEquals("cuda:0 tree", oom.allocatorTree());
        assertTrue(oom.getMessage().contains("cuMemAlloc returned CUDA_ERROR_OUT_OF_MEMORY")
                && oom.getMessage().contains("conv1"), oom.getMessage());
        DeviceException other = assertThrows(DeviceException.class, () -> Cuda.check(CUresult.CUDA_ERROR_INVALID_VALUE,
                "cuda:0", "cuLaunchKernel", "conv2d_fwd conv2d(...), grid 0x1x1, block 16x4x1"));
        assertEquals("CUDA_ERROR_INVALID_VALUE", other.errorName());
        assertTrue(other.getMessage().startsWith("cuda:0: cuLaunchKernel failed with CUDA_ERROR_INVALID_VALUE (1)")
                && other.getMessage().contains("grid 0x1x1, block 16x4x1"), other.getMessage());
        Cuda.check(CUresult.CUDA_SUCCESS, "cuda:0", "cuInit", null);
    }

    @Test
    void devicesLoadThePtxOfTheirArchitecture() {
        assertEquals("/org/convkit/kernels/conv2d/conv2d.compute_90.ptx", CudaDevice.ptxResource("conv2d/conv2d", 9));
        assertEquals("/org/convkit/kernels/conv2d/conv2d.compute_90.ptx", CudaDevice.ptxResource("conv2d/conv2d", 10));
        assertEquals("/org/convkit/kernels/pool2d/pool2d.compute_80.ptx", CudaDevice.ptxResource("pool2d/pool2d", 8));
    }
}
