package org.convkit.backend;

import org.convkit.memory.Allocation;

/**
 * Memory on a device, accounted in one of the device's allocators. Closing it frees the
 * memory and releases the accounting; closing twice does nothing.
 */
public abstract class DeviceBuffer implements AutoCloseable {
    private final Device device;
    private final Allocation allocation;
    private boolean closed;

    protected DeviceBuffer(Device device, Allocation allocation) {
        this.device = device;
        this.allocation = allocation;
    }

    public Device device() {
        return device;
    }

    /** Size in bytes. */
    public long bytes() {
        return allocation.bytes();
    }

    /** Who holds it, e.g. {@code conv1/weight}. */
    public String owner() {
        return allocation.owner();
    }

    public boolean isClosed() {
        return closed;
    }

    /** Frees the native memory. Called once, by {@link #close()}. */
    protected abstract void free();

    @Override
    public final void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            free();
        } finally {
            allocation.close();
        }
    }

    @Override
    public String toString() {
        return device.name() + " buffer " + owner() + " (" + bytes() + " B" + (closed ? ", closed" : "") + ")";
    }
}
