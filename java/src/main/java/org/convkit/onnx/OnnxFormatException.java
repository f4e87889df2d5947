package org.convkit.onnx;

import org.convkit.ConvkitException;

/** An ONNX file (model or tensor) is malformed, truncated, too large, or uses what convkit does not read. */
public class OnnxFormatException extends ConvkitException {
    private static final long serialVersionUID = 1L;

    public OnnxFormatException(String message) {
        super(message);
    }

    public OnnxFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
