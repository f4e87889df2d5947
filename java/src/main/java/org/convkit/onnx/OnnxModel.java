package org.convkit.onnx;

import java.util.Map;

/**
 * A model as read.
 *
 * @param irVersion the file's IR version
 * @param producer producer name and version
 * @param opsets operator set versions by domain ("" is the default ONNX domain)
 * @param graph the main graph
 */
public record OnnxModel(long irVersion, String producer, Map<String, Long> opsets, OnnxGraph graph) {
    /** The default domain's operator set version (1 when the file does not say). */
    public long opset() {
        return opsets.getOrDefault("", opsets.getOrDefault("ai.onnx", 1L));
    }
}
