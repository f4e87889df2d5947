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
 * The devices tests run on: every device found, or the ones the environment variable
 * {@code CONVKIT_TEST_DEVICES} names (comma-separated selectors, e.g. {@code cuda:0} or
 * {@code cuda:0,opencl:1}; a named device that is not there fails the test, so a restricted run
 * never passes on no device). OpenCL tests skip, with the reason, where no OpenCL device exists,
 * except when the environment variable {@code CONVKIT_REQUIRE_OPENCL} is {@code 1} or
 * {@code true} (set by {@code .ci/run}): then a missing OpenCL device fails the test. The
 * CUDA-only tests skip likewise unless {@code CONVKIT_REQUIRE_CUDA} is set (by the GPU check).
 */
public final class TestDevices {
    /** The environment variable that restricts the devices. */
    public static final String DEVICES_VARIABLE = "CONVKIT_TEST_DEVICES";

    private static volatile boolean announced;

    private TestDevices() {
    }

    /** Whether this run must have an OpenCL device. */
    public static boolean openClRequired() {
        return isSet("CONVKIT_REQUIRE_OPENCL");
    }

    private static boolean isSet(String variable) {
        String v = System.getenv(variable);
        return v != null && (v.equals("1") || v.toLowerCase(Locale.ROOT).equals("true"));
    }

    /** Fails when {@code CONVKIT_REQUIRE_CUDA} is set, else skips, unless a CUDA device exists. */
    public static void checkCuda() {
        Backends b = Backends.system();
        if (b.has("cuda")) {
            return;
        }
        String why = b.unavailable().getOrDefault("cuda", "backend not registered");
        if (isSet("CONVKIT_REQUIRE_CUDA")) {
            fail("CONVKIT_REQUIRE_CUDA is set but CUDA is unavailable: " + why);
        }
        Assumptions.abort("CUDA unavailable, CUDA tests skipped: " + why);
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

    /** Every device found, or those {@code CONVKIT_TEST_DEVICES} names; checks OpenCL's presence first (see class comment). */
    public static List<DeviceInfo> all() {
        if (openClRequired()) {
            checkOpenCl();
        }
        String only = System.getenv(DEVICES_VARIABLE);
        List<DeviceInfo> devices = select(only, Backends.system());
        if (!announced) {
            announced = true;
            if (only != null && !only.isBlank()) {
                System.out.println("[convkit tests] devices restricted by " + DEVICES_VARIABLE + "=" + only);
            }
            devices.forEach(d -> System.out.println("[convkit tests] device " + d.describe()));
            if (!Backends.system().has("opencl")) {
                System.out.println("[convkit tests] OpenCL unavailable, its cases are skipped: "
                        + Backends.system().unavailable().get("opencl"));
            }
        }
        return devices;
    }

    /**
     * The devices a {@code CONVKIT_TEST_DEVICES} value selects among {@code backends}' (in the order
     * named, each once); every device when {@code spec} is null or blank. Fails the test, with the
     * reason, when a selector names no device here.
     */
    public static List<DeviceInfo> select(String spec, Backends backends) {
        if (spec == null || spec.isBlank()) {
            return backends.devices();
        }
        List<DeviceInfo> out = new ArrayList<>();
        for (String selector : spec.split(",")) {
            if (selector.isBlank()) {
                continue;
            }
            DeviceInfo d;
            try {
                d = backends.find(selector.trim());
            } catch (IllegalArgumentException | IllegalStateException e) {
                return fail(DEVICES_VARIABLE + "=" + spec + " names a device that is not available: " + e.getMessage());
            }
            if (!out.contains(d)) {
                out.add(d);
            }
        }
        if (out.isEmpty()) {
            fail(DEVICES_VARIABLE + "=" + spec + " names no device");
        }
        return List.copyOf(out);
    }

    /** Opens every device {@link #all()} lists; the caller closes them (see {@link #closeAll}). */
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
