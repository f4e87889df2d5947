package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.ops.Op;
import org.convkit.tensor.Shape;

/**
 * The host side every CPU kernel shares, written once: the device whose threads run it, the
 * check that a launch's work items fit the {@code int} that {@link CpuDevice#parallelFor} counts
 * in, and the split of output planes into bands of rows that the convolutions, pooling and
 * upsampling schedule their work by.
 */
abstract class CpuKernel extends Kernel {
    /** Work items to aim for per thread, so that dynamic scheduling can balance. */
    static final int ITEMS_PER_THREAD = 8;

    /** The device this kernel runs on, typed for {@link CpuDevice#parallelFor}. */
    protected final CpuDevice cpu;

    /** Prepares the op for {@code device}. */
    protected CpuKernel(CpuDevice device, Op op, List<Shape> inputs) {
        super(device, op, inputs);
        this.cpu = device;
    }

    /** {@code items} as the work-item count {@link CpuDevice#parallelFor} takes; refuses more than an int holds. */
    protected final int workItems(long items) {
        if (items > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cpu " + describe() + ": too many work items (" + items + ")");
        }
        return (int) items;
    }

    /**
     * Rows per band when each of {@code planes} planes of {@code rows} output rows is cut into
     * bands, as few as give every thread about {@link #ITEMS_PER_THREAD} work items.
     */
    protected final int rowsPerBand(long planes, int rows) {
        long wanted = (long) cpu.threads() * ITEMS_PER_THREAD;
        int b = (int) Math.min(rows, Math.max(1, (wanted + planes - 1) / planes));
        return (rows + b - 1) / b;
    }

    /** The work of one band: output rows [row0, row1) of plane {@code plane}. */
    @FunctionalInterface
    protected interface Band {
        void compute(int plane, int row0, int row1);
    }

    /** Runs {@code band} on all threads for every band of {@code rowsPerBand} rows of each of {@code planes} planes. */
    protected final void forEachBand(long planes, int rows, int rowsPerBand, Band band) {
        int bands = (rows + rowsPerBand - 1) / rowsPerBand;
        cpu.parallelFor(workItems(planes * bands), item -> {
            int row0 = (item % bands) * rowsPerBand;
            band.compute(item / bands, row0, Math.min(rows, row0 + rowsPerBand));
        });
    }

    /** The work of one convolution band: output rows [oh0, oh1) of output channel {@code o} of image {@code n}. */
    @FunctionalInterface
    protected interface ConvBand {
        void compute(MemorySegment x, MemorySegment w, MemorySegment b, MemorySegment y, int n, int o, int oh0,
                int oh1);
    }

    /**
     * Launches a convolution whose arguments are input, weights and, if {@code bias}, a bias:
     * {@code band} for every band of the {@code oh} output rows of each of the {@code n * oc} planes.
     */
    protected final void forEachConvBand(List<DeviceBuffer> args, DeviceBuffer output, boolean bias, int n, int oc,
            int oh, int rowsPerBand, ConvBand band) {
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment w = CpuDevice.segment(args.get(1));
        MemorySegment b = bias ? CpuDevice.segment(args.get(2)) : null;
        MemorySegment y = CpuDevice.segment(output);
        forEachBand((long) n * oc, oh, rowsPerBand,
                (plane, oh0, oh1) -> band.compute(x, w, b, y, plane / oc, plane % oc, oh0, oh1));
    }
}
