package org.convkit.backend;

import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;

import org.convkit.memory.Allocation;
import org.convkit.memory.Allocator;
import org.convkit.memory.OutOfDeviceMemoryException;
import org.convkit.ops.Op;
import org.convkit.ops.grad.Composite;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * The argument checks and accounting every device shares, so that each backend implements only
 * the native part: allocate, copy, prepare, wait, release.
 */
public abstract class AbstractDevice implements Device {
    /** Makes the kernel of one op class for validated input shapes. */
    @FunctionalInterface
    protected interface KernelFactory<O extends Op> {
        Kernel create(O op, List<Shape> inputs);
    }

    private final DeviceInfo info;
    private final Allocator allocator;
    private final Map<Class<? extends Op>, KernelFactory<?>> factories = new HashMap<>();
    /** Where each view made by {@link #view} starts, so that {@link #region} can cut a region of a view from its parent. */
    private final Map<DeviceBuffer, Origin> origins = Collections.synchronizedMap(new WeakHashMap<>());
    private volatile boolean closed;
    private volatile FaultInjection faults;
    /** The operation at which the device was lost, or null while it works. */
    private volatile String lostAt;

    protected AbstractDevice(DeviceInfo info) {
        this.info = info;
        this.allocator = Allocator.root(info.name());
    }

    @Override
    public final DeviceInfo info() {
        return info;
    }

    @Override
    public final Allocator allocator() {
        return allocator;
    }

    @Override
    public final DeviceBuffer allocate(long bytes, Allocator from, String owner) {
        checkOpen();
        Objects.requireNonNull(from, "allocate: allocator");
        if (!from.descendsFrom(allocator)) {
            throw new IllegalArgumentException(name() + ": allocator '" + from.path() + "' does not belong to this device");
        }
        checkAlive("allocate", owner);
        Allocation allocation = from.allocate(bytes, owner);
        try {
            FaultInjection f = faults;
            if (f != null && f.hit(FaultInjection.Point.ALLOCATION)) {
                throw new OutOfDeviceMemoryException(bytes, owner, name() + " refused it: injected fault (" + f + ")",
                        allocator.tree() + from.context(), null);
            }
            return allocateNative(allocation);
        } catch (RuntimeException | Error e) {
            allocation.close();
            throw e;
        }
    }

    @Override
    public final DeviceBuffer view(DeviceBuffer parent, long offset, long bytes, String owner) {
        checkOpen();
        checkBuffer("view", parent);
        if (parent.isView()) {
            throw new IllegalArgumentException(name() + ": view of a view (" + parent + ")");
        }
        if (bytes <= 0 || offset < 0 || offset > parent.bytes() - bytes) {
            throw new IllegalArgumentException(name() + ": view of " + bytes + " B at offset " + offset + " does not fit in "
                    + parent);
        }
        if (offset % viewAlignment() != 0) {
            throw new IllegalArgumentException(name() + ": view offset " + offset + " is not a multiple of "
                    + viewAlignment() + " B");
        }
        checkAlive("view", owner);
        DeviceBuffer v = createView(parent, offset, bytes, owner);
        v.shareWritesWith(parent);
        origins.put(v, new Origin(parent, offset));
        return v;
    }

    @Override
    public final DeviceBuffer hostView(Tensor tensor, String owner) {
        checkOpen();
        Objects.requireNonNull(tensor, "hostView: tensor");
        if (!sharesHostMemory()) {
            throw new UnsupportedOperationException(name() + " does not share host memory: upload " + tensor + " instead");
        }
        if (tensor.isClosed()) {
            throw new IllegalArgumentException(name() + ": host view of a closed tensor " + tensor);
        }
        checkAlive("hostView", owner);
        return createHostView(tensor, owner);
    }

    /** Wraps a host tensor's memory as a buffer; only devices that share host memory override it. */
    protected DeviceBuffer createHostView(Tensor tensor, String owner) {
        throw new UnsupportedOperationException(name() + " does not share host memory");
    }

    /** The buffer a view was cut from and the view's offset in it. */
    private record Origin(DeviceBuffer parent, long offset) {
    }

    /**
     * A view of {@code bytes} bytes of {@code buffer} at {@code offset}, where {@code buffer} may itself
     * be a view (a workspace in a planned arena): the region is then cut from the view's parent, so
     * no view of a view is ever made. For kernels that split their workspace ({@link CompositeKernel}).
     */
    DeviceBuffer region(DeviceBuffer buffer, long offset, long bytes, String owner) {
        checkOpen();
        checkBuffer("region", buffer);
        if (bytes <= 0 || offset < 0 || offset > buffer.bytes() - bytes) {
            throw new IllegalArgumentException(name() + ": region of " + bytes + " B at offset " + offset
                    + " does not fit in " + buffer);
        }
        if (!buffer.isView()) {
            return view(buffer, offset, bytes, owner);
        }
        Origin o = origins.get(buffer);
        if (o == null) {
            throw new IllegalArgumentException(name() + ": region of a view this device did not make: " + buffer);
        }
        return view(o.parent(), o.offset() + offset, bytes, owner);
    }

    /** Creates a checked view. */
    protected abstract DeviceBuffer createView(DeviceBuffer parent, long offset, long bytes, String owner);

    /** Gets native memory for an allocation already accounted; throws {@link org.convkit.memory.OutOfDeviceMemoryException} on refusal. */
    protected abstract DeviceBuffer allocateNative(Allocation allocation);

    @Override
    public final void upload(Tensor src, DeviceBuffer dst) {
        checkOpen();
        checkBuffer("upload", dst);
        if (src.isClosed()) {
            throw new IllegalArgumentException(name() + ": upload from a closed tensor " + src);
        }
        if (src.byteSize() > dst.bytes()) {
            throw new IllegalArgumentException(name() + ": upload of " + src + " (" + src.byteSize()
                    + " B) into a smaller buffer " + dst);
        }
        beforeOperation("upload", dst.owner());
        copyToDevice(src, dst);
        dst.markWritten();
    }

    @Override
    public final void download(DeviceBuffer src, Tensor dst) {
        checkOpen();
        checkBuffer("download", src);
        if (dst.isClosed()) {
            throw new IllegalArgumentException(name() + ": download into a closed tensor " + dst);
        }
        if (dst.byteSize() > src.bytes()) {
            throw new IllegalArgumentException(name() + ": download of " + src + " into a larger tensor " + dst
                    + " (" + dst.byteSize() + " B)");
        }
        beforeOperation("download", src.owner());
        copyToHost(src, dst);
    }

    protected abstract void copyToDevice(Tensor src, DeviceBuffer dst);

    protected abstract void copyToHost(DeviceBuffer src, Tensor dst);

    @Override
    public final Kernel prepare(Op op, List<Shape> inputs) {
        checkOpen();
        Objects.requireNonNull(op, "prepare: op");
        List<Shape> shapes = List.copyOf(inputs);
        // Validates the shapes (throws IllegalArgumentException naming op and shapes).
        op.outputShape(shapes);
        if (op instanceof Composite c) {
            return new CompositeKernel(this, c, shapes);
        }
        @SuppressWarnings("unchecked")
        KernelFactory<Op> factory = (KernelFactory<Op>) factories.get(op.getClass());
        if (factory == null) {
            throw new UnsupportedOpException(name(), op.describe(shapes), "no kernel for '" + op.name() + "' on this device");
        }
        checkAlive("prepare", op.describe(shapes));
        FaultInjection f = faults;
        if (f != null && f.hit(FaultInjection.Point.KERNEL_BUILD)) {
            throw new KernelBuildException(name(), "prepare", -1, "INJECTED_FAULT", op.describe(shapes), "",
                    "injected fault (" + f + "): the program of this op did not build");
        }
        return factory.create(op, shapes);
    }

    @Override
    public final boolean supports(Op op) {
        return op instanceof Composite || factories.containsKey(op.getClass());
    }

    /** Registers this device's kernel for an op class (backends call it from their constructor). */
    protected final <O extends Op> void register(Class<O> type, KernelFactory<O> factory) {
        factories.put(type, factory);
    }

    @Override
    public final void close() {
        if (closed) {
            return;
        }
        long live = allocator.liveBytes();
        if (live != 0) {
            // Keeps the device open so the caller can still free what it forgot.
            throw new IllegalStateException(name() + " closed with live buffers:\n" + allocator.tree());
        }
        closed = true;
        try {
            release();
        } finally {
            allocator.close();
        }
    }

    /**
     * Installs a fault injection on this device's allocations, kernel preparations and operations
     * (null removes it). For tests of the failure paths; see {@link FaultInjection}.
     */
    public final void injectFaults(FaultInjection injection) {
        this.faults = injection;
    }

    /** Whether this device has been lost; a lost device stays lost (see {@link DeviceLostException}). */
    public final boolean isLost() {
        return lostAt != null;
    }

    /**
     * Counts an operation (transfer or launch) for fault injection and refuses it once the device
     * is lost. Called before every native operation.
     */
    /** {@link #beforeOperation} for a launch: nothing to do, and no description made, while no fault is armed. */
    final void beforeLaunch(Kernel kernel) {
        if (faults != null || lostAt != null) {
            beforeOperation("launch", kernel.describe());
        }
    }

    final void beforeOperation(String call, String what) {
        FaultInjection f = faults;
        if (lostAt == null && f != null && f.hit(FaultInjection.Point.OPERATION)) {
            lostAt = call + " " + what + " (injected fault: " + f + ")";
        }
        checkAlive(call, what);
    }

    private void checkAlive(String call, String what) {
        String at = lostAt;
        if (at != null) {
            throw new DeviceLostException(name(), call, what + "; the device was lost at " + at);
        }
    }

    /** Releases native resources (queues, contexts, threads). Called once, with no buffer live. */
    protected abstract void release();

    public final boolean isClosed() {
        return closed;
    }

    protected final void checkOpen() {
        if (closed) {
            throw new IllegalStateException(name() + " is closed");
        }
    }

    /** Checks that a buffer is open and belongs to this device. */
    public final void checkBuffer(String what, DeviceBuffer b) {
        if (b == null) {
            throw new IllegalArgumentException(name() + ": " + what + ": buffer is null");
        }
        if (b.isClosed()) {
            throw new IllegalArgumentException(name() + ": " + what + ": buffer " + b + " is closed");
        }
        if (b.device() != this) {
            throw new IllegalArgumentException(name() + ": " + what + ": buffer " + b + " belongs to " + b.device().name());
        }
    }

    /** Element type of every kernel so far. */
    protected static DType kernelDType() {
        return DType.F32;
    }

    @Override
    public String toString() {
        return info.describe();
    }
}
