package org.convkit.backend;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The backends found on this machine, their devices, and why the others are unavailable.
 * Devices are selected by name: {@code cpu}, {@code opencl:0}, {@code opencl} (its first
 * device), or {@code best} (a GPU if there is one, else the CPU backend).
 *
 * <p>{@link #system()} discovers once per process and logs each unavailable backend once, with
 * its reason; a backend that throws anything while starting (a missing native library
 * included) is reported, never propagated.
 */
public final class Backends {
    private static final System.Logger LOG = System.getLogger("org.convkit.backend");

    private static volatile Backends system;

    private final Map<String, Backend> backends = new LinkedHashMap<>();
    private final List<DeviceInfo> devices = new ArrayList<>();
    private final Map<String, String> unavailable = new LinkedHashMap<>();

    private Backends(List<Backend> candidates) {
        for (Backend b : candidates) {
            String name = b.name();
            try {
                List<DeviceInfo> found = b.discover();
                if (found.isEmpty()) {
                    unavailable.put(name, "no devices found");
                    continue;
                }
                backends.put(name, b);
                devices.addAll(found);
            } catch (BackendUnavailableException e) {
                unavailable.put(name, e.getMessage());
            } catch (RuntimeException | LinkageError e) {
                unavailable.put(name, "failed to start: " + e);
            }
        }
    }

    /** The backends registered with {@link ServiceLoader}, discovered once per process. */
    public static Backends system() {
        Backends s = system;
        if (s == null) {
            synchronized (Backends.class) {
                s = system;
                if (s == null) {
                    List<Backend> found = new ArrayList<>();
                    ServiceLoader.load(Backend.class, Backends.class.getClassLoader()).forEach(found::add);
                    s = new Backends(found);
                    s.unavailable.forEach((name, reason) ->
                            LOG.log(System.Logger.Level.INFO, "convkit backend ''{0}'' unavailable: {1}", name, reason));
                    system = s;
                }
            }
        }
        return s;
    }

    /** Discovery over an explicit list (tests, embedding). */
    public static Backends of(List<Backend> candidates) {
        return new Backends(candidates);
    }

    /** Every device found, backend by backend. */
    public List<DeviceInfo> devices() {
        return Collections.unmodifiableList(devices);
    }

    /** Backend name to the reason it cannot start here. */
    public Map<String, String> unavailable() {
        return Collections.unmodifiableMap(unavailable);
    }

    /** Whether a backend of this name started and has devices. */
    public boolean has(String backend) {
        return backends.containsKey(backend);
    }

    /** The device a selector names, without opening it; see the class comment for the forms. */
    public DeviceInfo find(String selector) {
        String s = selector == null ? "" : selector.trim().toLowerCase(Locale.ROOT);
        if (s.equals("best")) {
            return best();
        }
        String backend = s;
        int index = 0;
        int colon = s.indexOf(':');
        if (colon >= 0) {
            backend = s.substring(0, colon);
            try {
                index = Integer.parseInt(s.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("device: bad selector '" + selector + "' (expected name:index, e.g. opencl:0)");
            }
        }
        if (unavailable.containsKey(backend)) {
            throw new IllegalArgumentException("device '" + selector + "': backend '" + backend + "' is unavailable here: "
                    + unavailable.get(backend));
        }
        for (DeviceInfo d : devices) {
            if (d.backend().equals(backend) && d.index() == index) {
                return d;
            }
        }
        throw new IllegalArgumentException("device: no device '" + selector + "'; available: " + names()
                + (unavailable.isEmpty() ? "" : "; unavailable: " + unavailable.keySet()));
    }

    /** Opens the device a selector names; the caller closes it. */
    public Device open(String selector) {
        DeviceInfo d = find(selector);
        return backends.get(d.backend()).open(d.index());
    }

    /** A GPU if there is one (CUDA before OpenCL), else the CPU backend, else the first device. */
    public DeviceInfo best() {
        if (devices.isEmpty()) {
            throw new IllegalStateException("device: no backend could start: " + unavailable);
        }
        DeviceInfo best = devices.get(0);
        for (DeviceInfo d : devices) {
            if (score(d) > score(best)) {
                best = d;
            }
        }
        return best;
    }

    private static int score(DeviceInfo d) {
        if (d.kind() == DeviceInfo.Kind.GPU) {
            return d.backend().equals("cuda") ? 4 : 3;
        }
        return d.backend().equals("cpu") ? 2 : 1;
    }

    /** Names of all devices, e.g. {@code [cpu, opencl:0]}. */
    public List<String> names() {
        return devices.stream().map(DeviceInfo::name).toList();
    }
}
