package org.convkit.backend;

import org.convkit.ConvkitException;

/** A backend cannot start on this machine; the message says why and, where it can, what to install. */
public class BackendUnavailableException extends ConvkitException {
    private static final long serialVersionUID = 1L;

    public BackendUnavailableException(String reason) {
        super(reason);
    }

    public BackendUnavailableException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
