package org.convkit.backend;

import java.util.List;

/**
 * A family of devices reached through one API (the CPU, OpenCL, CUDA). Implementations are
 * found with {@link java.util.ServiceLoader}; {@link Backends} asks each one once per process.
 */
public interface Backend {
    /** Short name, the prefix of its device names: {@code cpu}, {@code opencl}. */
    String name();

    /**
     * The devices usable here, in a stable order (index i is device {@code name:i}).
     *
     * @throws BackendUnavailableException with the reason when the backend cannot start here
     *     (no driver, no platform, native library missing)
     */
    List<DeviceInfo> discover();

    /** Opens device {@code index} of {@link #discover()}'s list; the caller closes it. */
    Device open(int index);
}
