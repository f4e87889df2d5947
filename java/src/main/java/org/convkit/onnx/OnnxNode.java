package org.convkit.onnx;

import java.util.List;
import java.util.Map;

/**
 * A graph node as read.
 *
 * @param name node name (may be empty)
 * @param opType operator, e.g. {@code Conv}
 * @param domain operator domain ("" for the default ONNX domain)
 * @param inputs input tensor names; "" marks an omitted optional input
 * @param outputs output tensor names
 * @param attributes by name
 */
public record OnnxNode(String name, String opType, String domain, List<String> inputs, List<String> outputs,
        Map<String, OnnxAttribute> attributes) {

    public boolean has(String attribute) {
        return attributes.containsKey(attribute);
    }

    public long intAttr(String attribute, long fallback) {
        OnnxAttribute a = attributes.get(attribute);
        return a == null ? fallback : a.asInt();
    }

    public float floatAttr(String attribute, float fallback) {
        OnnxAttribute a = attributes.get(attribute);
        return a == null ? fallback : a.asFloat();
    }

    public String stringAttr(String attribute, String fallback) {
        OnnxAttribute a = attributes.get(attribute);
        return a == null ? fallback : a.asString();
    }

    /** An INTS attribute, or {@code fallback} (may be null) when absent. */
    public long[] intsAttr(String attribute, long[] fallback) {
        OnnxAttribute a = attributes.get(attribute);
        return a == null ? fallback : a.asInts();
    }

    /** For messages: {@code Conv 'conv1'}. */
    public String label() {
        return opType + (name.isEmpty() ? "" : " '" + name + "'");
    }
}
