package org.convkit.onnx;

import java.util.Arrays;

/**
 * A graph input or output declaration.
 *
 * @param name tensor name
 * @param elemType ONNX data type code (0 if not declared)
 * @param dims declared dimensions; -1 where a dimension is symbolic or missing
 */
public record OnnxValueInfo(String name, int elemType, long[] dims) {
    @Override
    public boolean equals(Object o) {
        return o instanceof OnnxValueInfo v && v.name.equals(name) && v.elemType == elemType && Arrays.equals(v.dims, dims);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return name + " " + OnnxTensor.typeName(elemType) + " " + Arrays.toString(dims);
    }
}
