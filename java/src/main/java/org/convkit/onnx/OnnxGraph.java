package org.convkit.onnx;

import java.util.List;

/**
 * A graph as read: nodes in file order (ONNX requires topological order), initializers, and
 * the declared inputs and outputs (inputs may include initializers, as older exporters did).
 */
public record OnnxGraph(String name, List<OnnxNode> nodes, List<OnnxTensor> initializers, List<OnnxValueInfo> inputs,
        List<OnnxValueInfo> outputs) {
}
