package org.convkit;

/**
 * Base of every convkit exception that is not a plain argument error. Invalid arguments are
 * {@link IllegalArgumentException}s (thrown before any native call); this type is for what
 * happens at run time: device errors, kernel build failures, out-of-memory.
 */
public class ConvkitException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConvkitException(String message) {
        super(message);
    }

    public ConvkitException(String message, Throwable cause) {
        super(message, cause);
    }
}
