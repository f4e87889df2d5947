package org.convkit.memory;

import org.convkit.ConvkitException;

/**
 * A buffer could not be allocated: an allocator limit or the device itself refused it. Carries
 * the requested bytes, who asked, and the allocator tree at the time of the failure.
 */
public class OutOfDeviceMemoryException extends ConvkitException {
    private static final long serialVersionUID = 1L;

    private final long requestedBytes;
    private final String owner;
    private final String allocatorTree;

    /** A refusal by an allocator's limit. */
    public OutOfDeviceMemoryException(long requestedBytes, String owner, String allocatorPath, long limit,
            String allocatorTree) {
        super("out of memory: '" + owner + "' asked for " + Bytes.format(requestedBytes) + " but allocator '"
                + allocatorPath + "' is limited to " + Bytes.format(limit) + "\nlive buffers:\n" + allocatorTree);
        this.requestedBytes = requestedBytes;
        this.owner = owner;
        this.allocatorTree = allocatorTree;
    }

    /**
     * A refusal by the device driver (the reason names the call and its error); {@code
     * requestedBytes} is -1 when the driver failed while using buffers and cannot say which.
     */
    public OutOfDeviceMemoryException(long requestedBytes, String owner, String reason, String allocatorTree,
            Throwable cause) {
        super("out of memory: '" + owner + "'" + (requestedBytes >= 0 ? " asked for " + Bytes.format(requestedBytes) : "")
                + ": " + reason + "\nlive buffers:\n" + allocatorTree, cause);
        this.requestedBytes = requestedBytes;
        this.owner = owner;
        this.allocatorTree = allocatorTree;
    }

    /** Bytes requested, or -1 when the driver failed while using buffers it had accepted. */
    public long requestedBytes() {
        return requestedBytes;
    }

    public String owner() {
        return owner;
    }

    /** The allocator tree with its live buffers when the request failed. */
    public String allocatorTree() {
        return allocatorTree;
    }
}
