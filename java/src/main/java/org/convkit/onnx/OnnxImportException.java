package org.convkit.onnx;

import org.convkit.ConvkitException;

/**
 * A well-formed ONNX node that convkit cannot run: an operator it does not have, or an
 * attribute value outside what its op supports (a 1-D or 3-D convolution, say). The message
 * names the node and the reason.
 */
public class OnnxImportException extends ConvkitException {
    private static final long serialVersionUID = 1L;

    public OnnxImportException(OnnxNode node, String reason) {
        super(node.label() + ": " + reason);
    }

    /** The same, with the exception that caused it (null when none). */
    public OnnxImportException(OnnxNode node, String reason, Throwable cause) {
        super(node.label() + ": " + reason, cause);
    }
}
