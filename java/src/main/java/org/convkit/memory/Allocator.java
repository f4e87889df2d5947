package org.convkit.memory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An accounting allocator: a node in a tree (device, then model, then layer or owner) that
 * counts the bytes of every buffer handed out under it. It does not hand out memory itself: the
 * backend reserves bytes here first (which enforces the limits of this node and all its
 * ancestors), then asks its driver for the memory, and releases the reservation when the buffer
 * is freed.
 *
 * <p>Live and peak bytes of a node include its descendants. Closing a node that still has live
 * buffers (its own or its descendants') throws and names them. With the system property
 * {@code convkit.memory.debug=true}, every allocation records where it was made and the error
 * prints those stack traces.
 *
 * <p>Thread-safe: one lock per tree.
 */
public final class Allocator implements AutoCloseable {
    /** Records allocation sites when true (system property {@code convkit.memory.debug}). */
    public static final boolean DEBUG = Boolean.getBoolean("convkit.memory.debug");

    private static final Allocator HOST = new Allocator("host", null, Long.MAX_VALUE);

    private final String name;
    private final Allocator parent;
    private final Object lock;
    private final long limit;
    private final Map<Long, Allocation> allocations = new LinkedHashMap<>();
    private final List<Allocator> children = new ArrayList<>();
    private long nextId;
    private long live;
    private long peak;
    private long allocationCount;
    private boolean closed;
    private volatile String context;

    private Allocator(String name, Allocator parent, long limit) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("allocator: name must not be blank");
        }
        if (limit <= 0) {
            throw new IllegalArgumentException("allocator '" + name + "': limit must be positive, got " + limit);
        }
        this.name = name;
        this.parent = parent;
        this.lock = parent == null ? new Object() : parent.lock;
        this.limit = limit;
    }

    /** A new root without a limit. */
    public static Allocator root(String name) {
        return new Allocator(name, null, Long.MAX_VALUE);
    }

    /** A new root that refuses to go above {@code limitBytes} live bytes. */
    public static Allocator root(String name, long limitBytes) {
        return new Allocator(name, null, limitBytes);
    }

    /** The process-wide root for host tensors allocated without an explicit allocator. */
    public static Allocator host() {
        return HOST;
    }

    /** A child without a limit of its own (its ancestors' limits still apply). */
    public Allocator child(String childName) {
        return child(childName, Long.MAX_VALUE);
    }

    /** A child that refuses to go above {@code limitBytes} live bytes. */
    public Allocator child(String childName, long limitBytes) {
        synchronized (lock) {
            checkOpen();
            Allocator c = new Allocator(childName, this, limitBytes);
            children.add(c);
            return c;
        }
    }

    /**
     * Reserves {@code bytes} for a buffer owned by {@code owner}.
     *
     * @throws OutOfDeviceMemoryException if this node or an ancestor would exceed its limit
     */
    public Allocation allocate(long bytes, String owner) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("allocator '" + path() + "': allocation size must be positive, got "
                    + bytes + " for '" + owner + "'");
        }
        synchronized (lock) {
            checkOpen();
            for (Allocator a = this; a != null; a = a.parent) {
                if (a.live > a.limit - bytes) {
                    throw new OutOfDeviceMemoryException(bytes, owner, a.path(), a.limit, root().treeLocked() + context());
                }
            }
            Allocation allocation = new Allocation(this, nextId++, bytes, owner,
                    Leaks.recordingSites() ? new Throwable("allocated here") : null);
            allocations.put(allocation.id(), allocation);
            for (Allocator a = this; a != null; a = a.parent) {
                a.live += bytes;
                a.peak = Math.max(a.peak, a.live);
                a.allocationCount++;
            }
            return allocation;
        }
    }

    void release(Allocation allocation) {
        synchronized (lock) {
            if (allocations.remove(allocation.id()) == null) {
                return;
            }
            for (Allocator a = this; a != null; a = a.parent) {
                a.live -= allocation.bytes();
            }
        }
    }

    public String name() {
        return name;
    }

    /**
     * Attaches a description (a session's memory plan, say) that every out-of-memory error in
     * this subtree reports.
     */
    public void setContext(String text) {
        this.context = text;
    }

    /** The contexts of this node and its ancestors, one per line (empty if none). */
    public String context() {
        StringBuilder sb = new StringBuilder();
        for (Allocator a = this; a != null; a = a.parent) {
            String c = a.context;
            if (c != null) {
                sb.append(a.path()).append(": ").append(c).append('\n');
            }
        }
        return sb.toString();
    }

    /** Whether {@code ancestor} is this node or one of its ancestors. */
    public boolean descendsFrom(Allocator ancestor) {
        for (Allocator a = this; a != null; a = a.parent) {
            if (a == ancestor) {
                return true;
            }
        }
        return false;
    }

    /** Names from the root down, joined by '/'. */
    public String path() {
        return parent == null ? name : parent.path() + "/" + name;
    }

    /** Bytes reserved now, here and below. */
    public long liveBytes() {
        synchronized (lock) {
            return live;
        }
    }

    /** Highest live bytes since creation or the last {@link #resetPeak()}. */
    public long peakBytes() {
        synchronized (lock) {
            return peak;
        }
    }

    /** Allocations made here and below since creation. */
    public long allocationCount() {
        synchronized (lock) {
            return allocationCount;
        }
    }

    /** The limit of this node ({@link Long#MAX_VALUE} when unlimited). */
    public long limitBytes() {
        return limit;
    }

    /** Sets this node's peak (and its descendants') to the current live bytes. */
    public void resetPeak() {
        synchronized (lock) {
            resetPeakLocked();
        }
    }

    private void resetPeakLocked() {
        peak = live;
        for (Allocator c : children) {
            c.resetPeakLocked();
        }
    }

    /** The live buffers here and below, for diagnostics. */
    public List<Allocation> liveAllocations() {
        synchronized (lock) {
            List<Allocation> out = new ArrayList<>();
            collectLive(out);
            return out;
        }
    }

    private void collectLive(List<Allocation> out) {
        out.addAll(allocations.values());
        for (Allocator c : children) {
            c.collectLive(out);
        }
    }

    /** This node and its descendants, one line each, with their live buffers. */
    public String tree() {
        synchronized (lock) {
            return treeLocked();
        }
    }

    private Allocator root() {
        Allocator a = this;
        while (a.parent != null) {
            a = a.parent;
        }
        return a;
    }

    private String treeLocked() {
        StringBuilder sb = new StringBuilder();
        appendTree(sb, 0);
        return sb.toString();
    }

    private void appendTree(StringBuilder sb, int depth) {
        String indent = "  ".repeat(depth);
        sb.append(indent).append(name).append(": live ").append(Bytes.format(live))
                .append(", peak ").append(Bytes.format(peak));
        if (limit != Long.MAX_VALUE) {
            sb.append(", limit ").append(Bytes.format(limit));
        }
        sb.append('\n');
        for (Allocation a : allocations.values()) {
            sb.append(indent).append("  - ").append(a.owner()).append(": ").append(Bytes.format(a.bytes())).append('\n');
        }
        for (Allocator c : children) {
            c.appendTree(sb, depth + 1);
        }
    }

    /**
     * Closes this node and its children.
     *
     * @throws IllegalStateException if buffers are still live here or below; the message lists
     *     them (with allocation sites when {@link #DEBUG} or {@link Leaks#recordingSites()} is on) and the node stays open
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            if (live != 0) {
                StringBuilder sb = new StringBuilder("allocator '").append(path()).append("' closed with ")
                        .append(Bytes.format(live)).append(" live:\n");
                for (Allocation a : liveAllocationsLocked()) {
                    sb.append("  ").append(a.owner()).append(" (").append(Bytes.format(a.bytes())).append(") in '")
                            .append(a.allocator().path()).append("'\n");
                    if (a.site() != null) {
                        for (StackTraceElement e : a.site().getStackTrace()) {
                            sb.append("      at ").append(e).append('\n');
                        }
                    }
                }
                if (!DEBUG) {
                    sb.append("(run with -Dconvkit.memory.debug=true to record where each buffer was allocated)");
                }
                throw new IllegalStateException(sb.toString());
            }
            closeLocked();
            if (parent != null) {
                parent.children.remove(this);
            }
        }
    }

    private List<Allocation> liveAllocationsLocked() {
        List<Allocation> out = new ArrayList<>();
        collectLive(out);
        return out;
    }

    private void closeLocked() {
        for (Allocator c : children) {
            c.closeLocked();
        }
        children.clear();
        closed = true;
    }

    public boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("allocator '" + path() + "' is closed");
        }
    }

    @Override
    public String toString() {
        return "Allocator[" + path() + ", live " + Bytes.format(liveBytes()) + "]";
    }
}
