package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.SoftmaxCrossEntropy;
import org.convkit.tensor.Shape;

/**
 * The softmax cross-entropy loss on the CPU: per position, the max over the classes (the first
 * largest class is the prediction), the sum of exp in double, then the loss
 * {@code log(sum) - (x_label - max)} and the right/wrong flag, as {@code softmax_cross_entropy_fwd}
 * computes them. Positions are grouped into work items of about {@value #MIN_ITEM} logits.
 */
final class CpuSoftmaxCrossEntropy extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    static final int MIN_ITEM = 8192;

    private final SoftmaxCrossEntropy.Geometry g;
    private final long rowsPerItem;

    CpuSoftmaxCrossEntropy(CpuDevice device, SoftmaxCrossEntropy op, List<Shape> inputs) {
        super(device, op, inputs);
        this.g = SoftmaxCrossEntropy.geometry(op.name(), inputs.get(0), inputs.get(1));
        this.rowsPerItem = Math.max(1, MIN_ITEM / g.classes());
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment labels = CpuDevice.segment(args.get(1));
        MemorySegment out = CpuDevice.segment(output);
        long rows = g.rows();
        cpu.parallelFor(workItems((rows + rowsPerItem - 1) / rowsPerItem), item -> {
            long end = Math.min(rows, (item + 1) * rowsPerItem);
            for (long r = item * rowsPerItem; r < end; r++) {
                row(x, labels, out, r);
            }
        });
    }

    private void row(MemorySegment x, MemorySegment labels, MemorySegment out, long r) {
        long inner = g.inner();
        int classes = g.classes();
        long o = r / inner;
        long base = o * classes * inner + (r - o * inner);
        int label = classOf(labels.getAtIndex(F, r), classes);
        float max = x.getAtIndex(F, base);
        int best = 0;
        for (int k = 1; k < classes; k++) {
            float v = x.getAtIndex(F, base + k * inner);
            if (v > max) {
                max = v;
                best = k;
            }
        }
        double sum = 0;
        for (int k = 0; k < classes; k++) {
            sum += Math.exp(x.getAtIndex(F, base + k * inner) - max);
        }
        float loss = label < 0 ? Float.NaN : (float) (Math.log(sum) - (x.getAtIndex(F, base + label * inner) - max));
        out.setAtIndex(F, r, loss);
        out.setAtIndex(F, g.rows() + r, label == best && !Float.isNaN(loss) ? 1f : 0f);
    }

    /** The class a label names, or -1 when it is not an integer in [0, classes) (NaN included). */
    static int classOf(float label, int classes) {
        return label >= 0f && label < classes && label == (float) Math.floor(label) ? (int) label : -1;
    }
}
