package org.convkit.bench;

import java.util.List;

import org.convkit.ops.Op;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;

/**
 * One benchmark case: an op and the shapes it runs on. The descriptor gives the FLOPs and the
 * bytes moved, from which {@link BenchMain} derives GFLOP/s and GB/s.
 */
public record BenchCase(Op op, List<Shape> inputs) {
    public BenchCase {
        inputs = List.copyOf(inputs);
        op.outputShape(inputs);
    }

    public static BenchCase of(Op op, Shape... inputs) {
        return new BenchCase(op, List.of(inputs));
    }

    public long flops() {
        return op.flops(inputs);
    }

    public long bytes() {
        return op.bytesMoved(inputs, DType.F32);
    }
}
