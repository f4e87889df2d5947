package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.grad.DenseGrad;
import org.convkit.tensor.Shape;

/**
 * The input and weight gradients of dense on the CPU ({@link DenseGrad}): the strided product
 * {@code out[i][j] = alpha * sum_l P[i, l] Q[l, j]}, a work item per band of output rows, each row
 * accumulated in double as P's element times Q's row (Q's rows are contiguous in the common
 * layouts), in order: deterministic.
 */
final class CpuDenseGrad extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final DenseGrad op;
    private final DenseGrad.Gemm g;
    private final int rowsPerItem;

    CpuDenseGrad(CpuDevice device, DenseGrad op, List<Shape> inputs) {
        super(device, op, inputs);
        this.op = op;
        this.g = op.gemm();
        this.rowsPerItem = rowsPerBand(1, g.rows());
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        int other = op.masked() ? 2 : 1;
        MemorySegment p = CpuDevice.segment(args.get(g.dzIsP() ? 0 : other));
        MemorySegment q = CpuDevice.segment(args.get(g.dzIsP() ? other : 0));
        MemorySegment m = op.masked() ? CpuDevice.segment(args.get(1)) : null;
        MemorySegment out = CpuDevice.segment(output);
        forEachBand(1, g.rows(), rowsPerItem, (plane, i0, i1) -> {
            double[] acc = new double[g.cols()];
            for (int i = i0; i < i1; i++) {
                Arrays.fill(acc, 0);
                for (int l = 0; l < g.inner(); l++) {
                    long pi = (long) i * g.pRow() + (long) l * g.pInner();
                    float pv = p.getAtIndex(F, pi);
                    if (m != null && g.dzIsP() && !(m.getAtIndex(F, pi) > 0f)) {
                        pv = 0f;
                    }
                    long qBase = (long) l * g.qInner();
                    for (int j = 0; j < g.cols(); j++) {
                        long qi = qBase + (long) j * g.qCol();
                        float qv = q.getAtIndex(F, qi);
                        if (m != null && !g.dzIsP() && !(m.getAtIndex(F, qi) > 0f)) {
                            qv = 0f;
                        }
                        acc[j] += (double) pv * qv;
                    }
                }
                long row = (long) i * g.cols();
                for (int j = 0; j < g.cols(); j++) {
                    out.setAtIndex(F, row + j, (float) (g.alpha() * acc[j]));
                }
            }
        });
    }
}
