package org.convkit.exec;

import org.convkit.memory.Allocator;

/**
 * How a {@link Session} runs.
 *
 * @param layerTimings wait for the device after each layer and record its time
 * @param captureLayers download every layer's output (otherwise only the model's)
 * @param hostAllocator where downloaded tensors are accounted
 */
public record RunOptions(boolean layerTimings, boolean captureLayers, Allocator hostAllocator) {
    /** Output only, no per-layer waits. */
    public static final RunOptions DEFAULT = new RunOptions(false, false, Allocator.host());

    public RunOptions {
        if (hostAllocator == null) {
            throw new IllegalArgumentException("run options: hostAllocator must not be null");
        }
    }

    public RunOptions withLayerTimings(boolean on) {
        return new RunOptions(on, captureLayers, hostAllocator);
    }

    public RunOptions withCaptureLayers(boolean on) {
        return new RunOptions(layerTimings, on, hostAllocator);
    }

    public RunOptions withHostAllocator(Allocator a) {
        return new RunOptions(layerTimings, captureLayers, a);
    }
}
