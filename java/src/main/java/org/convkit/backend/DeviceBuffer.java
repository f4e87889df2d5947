package org.convkit.backend;

import java.util.concurrent.atomic.AtomicLong;

import org.convkit.memory.Allocation;
import org.convkit.memory.Leaks;

/**
 * Memory on a device: either a buffer of its own, accounted in one of the device's allocators,
 * or a view of a region of another buffer (an arena), which costs no memory of its own and is
 * not accounted. Closing it frees the memory (or the view) and releases the accounting; closing
 * twice does nothing.
 */
public abstract class DeviceBuffer implements AutoCloseable {
    private final Device device;
    private final Allocation allocation;
    private final long bytes;
    private final String owner;
    private boolean closed;
    /** Writes through the device API; a view shares its parent's counter, since they share memory. */
    private AtomicLong writes = new AtomicLong();

    /** A buffer of its own. */
    protected DeviceBuffer(Device device, Allocation allocation) {
        this.device = device;
        this.allocation = allocation;
        this.bytes = allocation.bytes();
        this.owner = allocation.owner();
        Leaks.watch(this, allocation, device.name() + " buffer");
    }

    /** A view of {@code bytes} bytes of another buffer, for {@code owner}. */
    protected DeviceBuffer(Device device, long bytes, String owner) {
        this.device = device;
        this.allocation = null;
        this.bytes = bytes;
        this.owner = owner;
    }

    public Device device() {
        return device;
    }

    /** Size in bytes. */
    public long bytes() {
        return bytes;
    }

    /** Who holds it, e.g. {@code conv1/weight}. */
    public String owner() {
        return owner;
    }

    /** Whether this is a view of another buffer's memory. */
    public boolean isView() {
        return allocation == null;
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * A number that changes whenever this buffer's memory may have been written through the
     * device API (an upload, or a kernel run that takes it as output or workspace), here or
     * through a view of the same memory. Kernels that keep a transformed copy of an argument
     * (pre-packed weights) compare it to know whether their copy is still current.
     */
    public final long writeVersion() {
        return writes.get();
    }

    /** Records a write (see {@link #writeVersion()}). */
    final void markWritten() {
        writes.incrementAndGet();
    }

    /** Makes this view count its writes with {@code parent}, whose memory it shares. */
    final void shareWritesWith(DeviceBuffer parent) {
        writes = parent.writes;
    }

    /** Frees the native memory (or the view). Called once, by {@link #close()}. */
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
            if (allocation != null) {
                allocation.close();
            }
        }
    }

    @Override
    public String toString() {
        return device.name() + (isView() ? " view " : " buffer ") + owner + " (" + bytes + " B" + (closed ? ", closed" : "") + ")";
    }
}
