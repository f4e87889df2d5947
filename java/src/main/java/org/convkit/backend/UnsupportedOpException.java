package org.convkit.backend;

import org.convkit.ConvkitException;

/** A device has no kernel for an op. convkit never falls back silently: the caller decides. */
public class UnsupportedOpException extends ConvkitException {
    private static final long serialVersionUID = 1L;

    public UnsupportedOpException(String device, String opCase, String reason) {
        super(device + " cannot run " + opCase + ": " + reason);
    }
}
