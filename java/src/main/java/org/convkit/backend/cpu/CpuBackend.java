package org.convkit.backend.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.convkit.backend.Backend;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;

/** The CPU backend: one device, {@code cpu}, running on all available processors. Always available. */
public final class CpuBackend implements Backend {
    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public List<DeviceInfo> discover() {
        return List.of(info(Runtime.getRuntime().availableProcessors()));
    }

    @Override
    public Device open(int index) {
        if (index != 0) {
            throw new IllegalArgumentException("cpu: there is one CPU device (index 0), not " + index);
        }
        return new CpuDevice(info(Runtime.getRuntime().availableProcessors()));
    }

    /** Opens the CPU device with a given number of worker threads (benchmarks, tests). */
    public static CpuDevice open(int index, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("cpu: threads must be positive, got " + threads);
        }
        return new CpuDevice(info(threads));
    }

    private static DeviceInfo info(int threads) {
        return new DeviceInfo("cpu", "cpu", 0, DeviceInfo.Kind.CPU, cpuModel(),
                "Java " + Runtime.version() + ", " + System.getProperty("os.arch"), threads, totalMemory());
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | SecurityException e) {
            // Not Linux, or not readable: the architecture name will do.
        }
        return System.getProperty("os.arch") + " CPU";
    }

    private static long totalMemory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    String kib = line.substring("MemTotal:".length()).replace("kB", "").trim();
                    return Long.parseLong(kib) * 1024;
                }
            }
        } catch (IOException | NumberFormatException | SecurityException e) {
            // Fall back to what the JVM may use.
        }
        return Runtime.getRuntime().maxMemory();
    }
}
