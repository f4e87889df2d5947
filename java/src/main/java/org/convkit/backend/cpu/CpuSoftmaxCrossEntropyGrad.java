package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.SoftmaxCrossEntropy;
import org.convkit.ops.grad.SoftmaxCrossEntropyGrad;
import org.convkit.tensor.Shape;

/**
 * The gradient of the mean softmax cross-entropy loss on the CPU, per position:
 * {@code (exp(x - max) / sum - [k == label]) * scale}, the sum in double, the scale the float
 * {@link SoftmaxCrossEntropyGrad#scale} that every device uses. Positions are grouped into work
 * items of about {@value CpuSoftmaxCrossEntropy#MIN_ITEM} logits.
 */
final class CpuSoftmaxCrossEntropyGrad extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final SoftmaxCrossEntropy.Geometry g;
    private final float scale;
    private final long rowsPerItem;

    CpuSoftmaxCrossEntropyGrad(CpuDevice device, SoftmaxCrossEntropyGrad op, List<Shape> inputs) {
        super(device, op, inputs);
        this.g = SoftmaxCrossEntropy.geometry(op.name(), inputs.get(0), inputs.get(1));
        this.scale = SoftmaxCrossEntropyGrad.scale(inputs.get(0));
        this.rowsPerItem = Math.max(1, CpuSoftmaxCrossEntropy.MIN_ITEM / g.classes());
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment labels = CpuDevice.segment(args.get(1));
        MemorySegment dx = CpuDevice.segment(output);
        long rows = g.rows();
        cpu.parallelFor(workItems((rows + rowsPerItem - 1) / rowsPerItem), item -> {
            long end = Math.min(rows, (item + 1) * rowsPerItem);
            for (long r = item * rowsPerItem; r < end; r++) {
                row(x, labels, dx, r);
            }
        });
    }

    private void row(MemorySegment x, MemorySegment labels, MemorySegment dx, long r) {
        long inner = g.inner();
        int classes = g.classes();
        long o = r / inner;
        long base = o * classes * inner + (r - o * inner);
        int label = CpuSoftmaxCrossEntropy.classOf(labels.getAtIndex(F, r), classes);
        float max = x.getAtIndex(F, base);
        for (int k = 1; k < classes; k++) {
            // Math.max keeps a NaN, which then spreads through the row as on the other devices.
            max = Math.max(max, x.getAtIndex(F, base + k * inner));
        }
        double sum = 0;
        for (int k = 0; k < classes; k++) {
            sum += Math.exp(x.getAtIndex(F, base + k * inner) - max);
        }
        for (int k = 0; k < classes; k++) {
            long i = base + k * inner;
            float p = (float) (Math.exp(x.getAtIndex(F, i) - max) / sum);
            dx.setAtIndex(F, i, label < 0 ? Float.NaN : (k == label ? p - 1f : p) * scale);
        }
    }
}
