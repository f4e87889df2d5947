package org.convkit.memory;

/** A reservation of bytes in an {@link Allocator}, held by one buffer. Closing it releases the bytes. */
public final class Allocation implements AutoCloseable {
    private final Allocator allocator;
    private final long id;
    private final long bytes;
    private final String owner;
    private final Throwable site;

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

    /** Where it was allocated, when {@link Allocator#DEBUG} is on; otherwise null. */
    public Throwable site() {
        return site;
    }

    /** Releases the bytes; later calls do nothing. */
    @Override
    public void close() {
        allocator.release(this);
    }
}
