package org.convkit.memory;

/** A reservation of bytes in an {@link Allocator}, held by one buffer. Closing it releases the bytes. */
public final class Allocation implements AutoCloseable {
    private final Allocator allocator;
    private final long id;
    private final long bytes;
    private final String owner;
    private final Throwable site;
    private volatile boolean released;

    Allocation(Allocator allocator, long id, long bytes, String owner, Throwable site) {
        this.allocator = allocator;
        this.id = id;
        this.bytes = bytes;
        this.owner = owner;
        this.site = site;
    }

    public Allocator allocator() {
        return allocator;
    }

    long id() {
        return id;
    }

    public long bytes() {
        return bytes;
    }

    /** Who holds the buffer, e.g. {@code conv1/weight}. */
    public String owner() {
        return owner;
    }

    /** Where it was allocated, when {@link Leaks#recordingSites()} is on; otherwise null. */
    public Throwable site() {
        return site;
    }

    /** Whether the bytes are still reserved (not closed yet). */
    public boolean isLive() {
        return !released;
    }

    /** Releases the bytes; later calls do nothing. */
    @Override
    public void close() {
        released = true;
        allocator.release(this);
    }
}
