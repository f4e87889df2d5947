package org.convkit.backend.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;

import org.convkit.backend.AbstractDevice;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.DeviceInfo;
import org.convkit.memory.Allocation;
import org.convkit.memory.OutOfDeviceMemoryException;
import org.convkit.ops.ActivationOp;
import org.convkit.ops.BatchNorm;
import org.convkit.ops.BatchNormTraining;
import org.convkit.ops.Binary;
import org.convkit.ops.Concat;
import org.convkit.ops.Conv2d;
import org.convkit.ops.ConvTranspose2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.GlobalPool2d;
import org.convkit.ops.Lrn;
import org.convkit.ops.PRelu;
import org.convkit.ops.Pool2d;
import org.convkit.ops.Reshape;
import org.convkit.ops.SeparableConv2d;
import org.convkit.ops.Softmax;
import org.convkit.ops.SoftmaxCrossEntropy;
import org.convkit.ops.SqueezeExcite;
import org.convkit.ops.Upsample;
import org.convkit.ops.grad.SoftmaxCrossEntropyGrad;
import org.convkit.ops.train.Accumulate;
import org.convkit.ops.train.AdamUpdate;
import org.convkit.ops.train.RunningAverage;
import org.convkit.ops.train.SgdUpdate;
import org.convkit.ops.grad.ActivationGrad;
import org.convkit.ops.grad.BatchNormGrad;
import org.convkit.ops.grad.BatchStatistics;
import org.convkit.ops.grad.BroadcastSum;
import org.convkit.ops.grad.ConcatGrad;
import org.convkit.ops.grad.Conv2dGrad;
import org.convkit.ops.grad.DenseGrad;
import org.convkit.ops.grad.LrnGrad;
import org.convkit.ops.grad.PReluGrad;
import org.convkit.ops.grad.Pool2dGrad;
import org.convkit.ops.grad.SoftmaxGrad;
import org.convkit.ops.grad.UpsampleGrad;
import org.convkit.tensor.Tensor;

/**
 * The CPU as a device: buffers are off-heap segments, kernels run synchronously on the calling
 * thread plus {@code computeUnits - 1} helper threads ({@link SpinPool}: they spin briefly for
 * the next call before they park), which take work items dynamically (a noisy machine's slow core
 * takes fewer).
 */
public final class CpuDevice extends AbstractDevice {
    private final int threads;
    private final SpinPool pool;
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    CpuDevice(DeviceInfo info) {
        super(info);
        this.threads = info.computeUnits();
        this.pool = threads > 1 ? new SpinPool(threads - 1, "convkit-cpu-") : null;
        // Convolutions and the dense layer.
        register(Conv2d.class, (op, inputs) -> new CpuConv2d(this, op, inputs.get(0)));
        register(SeparableConv2d.class, (op, inputs) -> new CpuSeparableConv2d(this, op, inputs));
        register(ConvTranspose2d.class, (op, inputs) -> new CpuConvTranspose2d(this, op, inputs.get(0)));
        register(Dense.class, (op, inputs) -> new CpuDense(this, op, inputs.get(0)));
        // Pooling and resampling.
        register(Pool2d.class, (op, inputs) -> new CpuPool2d(this, op, inputs.get(0)));
        register(GlobalPool2d.class, (op, inputs) -> new CpuGlobalPool2d(this, op, inputs.get(0)));
        register(Upsample.class, (op, inputs) -> new CpuUpsample(this, op, inputs.get(0)));
        // Normalization.
        register(BatchNorm.class, (op, inputs) -> new CpuBatchNorm(this, op, inputs.get(0)));
        register(Lrn.class, (op, inputs) -> new CpuLrn(this, op, inputs.get(0)));
        // Activations.
        register(ActivationOp.class, (op, inputs) -> new CpuActivation(this, op, inputs.get(0)));
        register(PRelu.class, (op, inputs) -> new CpuPRelu(this, op, inputs.get(0)));
        register(Softmax.class, (op, inputs) -> new CpuSoftmax(this, op, inputs.get(0)));
        // Element-wise and per-channel scaling.
        register(Binary.class, (op, inputs) -> new CpuBinary(this, op, inputs));
        register(SqueezeExcite.class, (op, inputs) -> new CpuSqueezeExcite(this, op, inputs.get(0)));
        // Shape ops.
        register(Concat.class, (op, inputs) -> new CpuConcat(this, op, inputs));
        register(Flatten.class, (op, inputs) -> new CpuFlatten(this, op, inputs.get(0)));
        register(Reshape.class, (op, inputs) -> new CpuReshape(this, op, inputs.get(0)));
        // Training: the loss and its gradient, optimizer updates, gradient accumulation.
        register(SoftmaxCrossEntropy.class, (op, inputs) -> new CpuSoftmaxCrossEntropy(this, op, inputs));
        register(SoftmaxCrossEntropyGrad.class, (op, inputs) -> new CpuSoftmaxCrossEntropyGrad(this, op, inputs));
        register(SgdUpdate.class, (op, inputs) -> new CpuSgdUpdate(this, op, inputs));
        register(AdamUpdate.class, (op, inputs) -> new CpuAdamUpdate(this, op, inputs));
        register(Accumulate.class, (op, inputs) -> new CpuAccumulate(this, op, inputs.get(0)));
        register(RunningAverage.class, (op, inputs) -> new CpuRunningAverage(this, op, inputs.get(0)));
        // Backward pass.
        register(ActivationGrad.class, (op, inputs) -> new CpuActivationGrad(this, op, inputs));
        register(BroadcastSum.class, (op, inputs) -> new CpuBroadcastSum(this, op, inputs));
        register(Conv2dGrad.class, (op, inputs) -> new CpuConv2dGrad(this, op, inputs));
        register(DenseGrad.class, (op, inputs) -> new CpuDenseGrad(this, op, inputs));
        register(Pool2dGrad.class, (op, inputs) -> new CpuPool2dGrad(this, op, inputs));
        register(PReluGrad.class, (op, inputs) -> new CpuPReluGrad(this, op, inputs));
        register(BatchNormGrad.class, (op, inputs) -> new CpuBatchNormGrad(this, op, inputs));
        register(BatchNormTraining.class, (op, inputs) -> new CpuBatchNormTraining(this, op, inputs));
        register(BatchStatistics.class, (op, inputs) -> new CpuBatchStatistics(this, op, inputs));
        register(SoftmaxGrad.class, (op, inputs) -> new CpuSoftmaxGrad(this, op, inputs));
        register(ConcatGrad.class, (op, inputs) -> new CpuConcatGrad(this, op, inputs));
        register(LrnGrad.class, (op, inputs) -> new CpuLrnGrad(this, op, inputs));
        register(UpsampleGrad.class, (op, inputs) -> new CpuUpsampleGrad(this, op, inputs));
    }

    /** Worker threads, the caller included. */
    public int threads() {
        return threads;
    }

    /** The calling thread's scratch arrays (see {@link Scratch}). */
    Scratch scratch() {
        return scratch.get();
    }

    /**
     * Heap arrays of one thread that the kernels of this device borrow for one work item at a
     * time (a thread runs one item at a time, whichever kernel it belongs to), so the layers of
     * a network share one set per thread instead of keeping one each. An array grows to the
     * largest length asked for its slot and stays: after the first runs nothing is allocated.
     * A kernel uses each slot for one purpose within an item.
     */
    static final class Scratch {
        /** Slots of {@link #floats}. */
        static final int SLAB = 0, STAGE = 1, TILE = 2, ACCUMULATORS = 3, PLANE = 4, TAPS = 5;
        private final float[][] floats = new float[6][];
        private int[] ints = new int[0];

        /** The float array of {@code slot}, at least {@code length} long. */
        float[] floats(int slot, int length) {
            float[] a = floats[slot];
            if (a == null || a.length < length) {
                a = new float[length];
                floats[slot] = a;
            }
            return a;
        }

        /** The int array, at least {@code length} long. */
        int[] ints(int length) {
            if (ints.length < length) {
                ints = new int[length];
            }
            return ints;
        }
    }

    @Override
    protected DeviceBuffer allocateNative(Allocation allocation) {
        Arena arena = Arena.ofShared();
        try {
            return new CpuBuffer(this, allocation, arena, arena.allocate(allocation.bytes(), Tensor.ALIGNMENT));
        } catch (OutOfMemoryError e) {
            arena.close();
            throw new OutOfDeviceMemoryException(allocation.bytes(), allocation.owner(), "the host refused the allocation ("
                    + e.getMessage() + ")", allocator().tree() + allocation.allocator().context(), e);
        }
    }

    /** Views are segment slices; 64 bytes keeps every view's start on a cache line. */
    @Override
    public long viewAlignment() {
        return 64;
    }

    @Override
    protected DeviceBuffer createView(DeviceBuffer parent, long offset, long bytes, String owner) {
        return new CpuBuffer(this, bytes, owner, segment(parent).asSlice(offset, bytes));
    }

    /** Buffers are host memory segments: a tensor's segment is a buffer as it stands. */
    @Override
    public boolean sharesHostMemory() {
        return true;
    }

    @Override
    protected DeviceBuffer createHostView(Tensor tensor, String owner) {
        return new CpuBuffer(this, tensor.byteSize(), owner, tensor.segment());
    }

    @Override
    protected void copyToDevice(Tensor src, DeviceBuffer dst) {
        MemorySegment.copy(src.segment(), 0, segment(dst), 0, src.byteSize());
    }

    @Override
    protected void copyToHost(DeviceBuffer src, Tensor dst) {
        MemorySegment.copy(segment(src), 0, dst.segment(), 0, dst.byteSize());
    }

    @Override
    public void synchronize() {
        // Kernels run synchronously.
    }

    @Override
    protected void release() {
        if (pool != null) {
            pool.close();
        }
    }

    static MemorySegment segment(DeviceBuffer b) {
        return ((CpuBuffer) b).segment;
    }

    /**
     * Runs {@code body} for every index in [0, count) on all threads; returns when all are done
     * and rethrows the first failure.
     */
    void parallelFor(int count, IntConsumer body) {
        checkOpen();
        if (pool == null || count < 2) {
            for (int i = 0; i < count; i++) {
                body.accept(i);
            }
            return;
        }
        pool.run(count, body);
    }

    /** A buffer in host memory, in an arena of its own; or a slice of one (a view, no arena). */
    static final class CpuBuffer extends DeviceBuffer {
        private final Arena arena;
        private final MemorySegment segment;

        CpuBuffer(CpuDevice device, Allocation allocation, Arena arena, MemorySegment segment) {
            super(device, allocation);
            this.arena = arena;
            this.segment = segment;
        }

        CpuBuffer(CpuDevice device, long bytes, String owner, MemorySegment slice) {
            super(device, bytes, owner);
            this.arena = null;
            this.segment = slice;
        }

        @Override
        protected void free() {
            if (arena != null) {
                arena.close();
            }
        }
    }
}
