package org.convkit.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.junit.jupiter.api.Assumptions;

/**
 * The devices tests run on: every device found. OpenCL tests skip, with the reason, where no
 * OpenCL device exists, except when the environment variable {@code CONVKIT_REQUIRE_OPENCL} is
 * {@code 1} or {@code true} (set by {@code .ci/run}): then a missing OpenCL device fails the test.
 */
public final class TestDevices {
    private static volatile boolean announced;

    private TestDevices() {
    }

    /** Whether this run must have an OpenCL device. */
    public static boolean openClRequired() {
        String v = System.getenv("CONVKIT_REQUIRE_OPENCL");
        return v != null && (v.equals("1") || v.toLowerCase(Locale.ROOT).equals("true"));
    }

    /** Fails or skips (see class comment) unless an OpenCL device exists. */
    public static void checkOpenCl() {
        Backends b = Backends.system();
        if (b.has("opencl")) {
            return;
        }
        String why = b.unavailable().getOrDefault("opencl", "backend not registered");
        if (openClRequired()) {
            fail("CONVKIT_REQUIRE_OPENCL is set but OpenCL is unavailable: " + why);
        }
        Assumptions.abort("OpenCL unavailable, OpenCL tests skipped: " + why);
    }

    /** Every device found; checks OpenCL's presence first (see class comment). */
    public static List<DeviceInfo> all() {
        if (openClRequired()) {
            checkOpenCl();
        }
        List<DeviceInfo> devices = Backends.system().devices();
        if (!announced) {
            announced = true;
            devices.forEach(d -> System.out.println("[convkit tests] device " + d.describe()));
            if (!Backends.system().has("opencl")) {
                System.out.println("[convkit tests] OpenCL unavailable, its cases are skipped: "
                        + Backends.system().unavailable().get("opencl"));
            }
        }
        return devices;
    }

    /** Opens every device found; the caller closes them (see {@link #closeAll}). */
    public static List<Device> openAll() {
        List<Device> out = new ArrayList<>();
        for (DeviceInfo d : all()) {
            out.add(Backends.system().open(d.name()));
        }
        return out;
    }

    /** Closes devices, asserting that none has live buffers left. */
    public static void closeAll(List<Device> devices) {
        List<String> leaks = new ArrayList<>();
        for (Device d : devices) {
            long live = d.allocator().liveBytes();
            if (live != 0) {
                leaks.add(d.allocator().tree());
            }
            try {
                d.close();
            } catch (IllegalStateException e) {
                leaks.add(e.getMessage());
            }
        }
        if (!leaks.isEmpty()) {
            fail("devices closed with live buffers:\n" + String.join("\n", leaks));
        }
    }
}
