package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.convkit.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

class BackendsTest {
    /** A backend whose discovery does what it is told. */
    private record Fake(String name, Runnable discovery, List<DeviceInfo> devices) implements Backend {
        @Override
        public List<DeviceInfo> discover() {
            discovery.run();
            return devices;
        }

        @Override
        public Device open(int index) {
            throw new UnsupportedOperationException("fake backends open nothing");
        }
    }

    private static DeviceInfo gpu(String backend) {
        return new DeviceInfo(backend + ":0", backend, 0, DeviceInfo.Kind.GPU, "Fake GPU", "fake 1.0", 132, 1L << 37);
    }

    @Test
    void backendsThatCannotStartAreReportedWithTheirReasonNotThrown() {
        Backends b = Backends.of(List.of(
                new CpuBackend(),
                new Fake("cuda", () -> {
                    throw new UnsatisfiedLinkError("libcuda.so.1: cannot open shared object file");
                }, List.of()),
                new Fake("opencl", () -> {
                    throw new BackendUnavailableException("no OpenCL platform");
                }, List.of()),
                new Fake("vulkan", () -> { }, List.of())));
        assertEquals(List.of("cpu"), b.names());
        assertTrue(b.unavailable().get("cuda").contains("libcuda.so.1"), b.unavailable().toString());
        assertEquals("no OpenCL platform", b.unavailable().get("opencl"));
        assertEquals("no devices found", b.unavailable().get("vulkan"));
        assertFalse(b.has("cuda"));
        assertEquals("cpu", b.best().name());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.open("cuda:0"));
        assertTrue(e.getMessage().contains("unavailable") && e.getMessage().contains("libcuda.so.1"), e.getMessage());
    }

    @Test
    void selectorsByNameIndexAndBest() {
        Backends b = Backends.of(List.of(new CpuBackend(), new Fake("opencl", () -> { }, List.of(gpu("opencl")))));
        assertEquals("cpu", b.find("cpu").name());
        assertEquals("cpu", b.find("CPU:0").name());
        assertEquals("opencl:0", b.find("opencl").name());
        assertEquals("opencl:0", b.find("best").name(), "a GPU wins");
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> b.find("opencl:3"));
        assertTrue(unknown.getMessage().contains("opencl:3") && unknown.getMessage().contains("[cpu, opencl:0]"),
                unknown.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> b.find("opencl:x"));
        assertTrue(bad.getMessage().contains("bad selector"), bad.getMessage());

        Backends both = Backends.of(List.of(new Fake("opencl", () -> { }, List.of(gpu("opencl"))),
                new Fake("cuda", () -> { }, List.of(gpu("cuda")))));
        assertEquals("cuda:0", both.best().name(), "CUDA before OpenCL among GPUs");
    }

    @Test
    void theSystemRegistryFindsTheCpuThroughTheServiceLoader() {
        Backends s = Backends.system();
        assertTrue(s.has("cpu"));
        assertEquals(DeviceInfo.Kind.CPU, s.find("cpu").kind());
        assertTrue(s.find("cpu").computeUnits() >= 1);
        assertTrue(s == Backends.system(), "discovered once per process");
    }

    @Test
    void noDeviceAtAllIsAClearError() {
        Backends none = Backends.of(List.of(new Fake("opencl", () -> {
            throw new BackendUnavailableException("no OpenCL platform");
        }, List.of())));
        IllegalStateException e = assertThrows(IllegalStateException.class, none::best);
        assertTrue(e.getMessage().contains("no OpenCL platform"), e.getMessage());
    }
}
