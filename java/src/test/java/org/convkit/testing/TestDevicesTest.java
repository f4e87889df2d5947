package org.convkit.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.convkit.backend.Backend;
import org.convkit.backend.BackendUnavailableException;
import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** {@code CONVKIT_TEST_DEVICES} restricts the devices the sweeps run on, and never to none. */
class TestDevicesTest {
    /** Two GPUs found, CUDA unavailable. */
    private record Gpus(String name) implements Backend {
        @Override
        public List<DeviceInfo> discover() {
            if (name.equals("cuda")) {
                throw new BackendUnavailableException("no CUDA driver: libcuda.so.1 could not be loaded");
            }
            return List.of(gpu(0), gpu(1));
        }

        private DeviceInfo gpu(int i) {
            return new DeviceInfo(name + ":" + i, name, i, DeviceInfo.Kind.GPU, "Fake GPU", "fake 1.0", 8, 1L << 30);
        }

        @Override
        public Device open(int index) {
            throw new UnsupportedOperationException("fake backends open nothing");
        }
    }

    private static final Backends FOUND = Backends.of(List.of(new CpuBackend(), new Gpus("opencl"), new Gpus("cuda")));

    @Test
    void absentOrBlankMeansEveryDevice() {
        assertEquals(List.of("cpu", "opencl:0", "opencl:1"), names(TestDevices.select(null, FOUND)));
        assertEquals(FOUND.devices(), TestDevices.select("  ", FOUND));
    }

    @Test
    void aListSelectsThoseDevicesInItsOrderEachOnce() {
        assertEquals(List.of("opencl:1"), names(TestDevices.select("opencl:1", FOUND)));
        assertEquals(List.of("opencl:1", "cpu"), names(TestDevices.select("opencl:1, cpu,,opencl:1", FOUND)));
        assertEquals(List.of("opencl:0"), names(TestDevices.select("opencl", FOUND)), "a backend means its first device");
    }

    @Test
    void aDeviceThatIsNotHereFailsWithTheReasonInsteadOfRunningNothing() {
        AssertionFailedError cuda = assertThrows(AssertionFailedError.class, () -> TestDevices.select("cuda:0", FOUND));
        assertTrue(cuda.getMessage().contains("CONVKIT_TEST_DEVICES=cuda:0") && cuda.getMessage().contains("libcuda.so.1"),
                cuda.getMessage());
        AssertionFailedError missing = assertThrows(AssertionFailedError.class,
                () -> TestDevices.select("opencl:7", FOUND));
        assertTrue(missing.getMessage().contains("opencl:7"), missing.getMessage());
        assertThrows(AssertionFailedError.class, () -> TestDevices.select(",", FOUND));
    }

    private static List<String> names(List<DeviceInfo> devices) {
        return devices.stream().map(DeviceInfo::name).toList();
    }
}
