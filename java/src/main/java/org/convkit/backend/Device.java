package org.convkit.backend;

import java.util.List;

import org.convkit.memory.Allocator;
import org.convkit.ops.Op;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * One device: its memory, transfers and kernels. Work is queued in order; {@link #download}
 * and {@link #synchronize()} wait for it. Every method checks its arguments before any native
 * call.
 *
 * <p><b>Threads.</b> On the CPU and OpenCL devices, several threads may use one device at the
 * same time, each with buffers and kernels of its own: {@link #allocate}, {@link #view},
 * {@link #upload}, {@link #download}, {@link #prepare}, {@link #synchronize()} and
 * {@link Kernel#run} are thread-safe (allocators lock per tree; OpenCL's API is thread-safe except
 * for setting a kernel object's arguments, which is why a {@link Kernel} and a buffer being
 * written belong to one thread at a time). {@link org.convkit.exec.Session#newExecution()} is
 * built on this. CUDA devices make their context current on every call, so they may be driven
 * from several threads, one at a time; concurrent use is not tested there. {@link #close()} must
 * not race any other call.
 */
public interface Device extends AutoCloseable {
    /** What this device is. */
    DeviceInfo info();

    /** Selection name, e.g. {@code opencl:0}. */
    default String name() {
        return info().name();
    }

    /** The root allocator; every buffer of this device is accounted in it or below it. */
    Allocator allocator();

    /** A buffer of {@code bytes} accounted in {@code allocator} (this device's root or a descendant) for {@code owner}. */
    DeviceBuffer allocate(long bytes, Allocator allocator, String owner);

    /** A buffer accounted in the root allocator. */
    default DeviceBuffer allocate(long bytes, String owner) {
        return allocate(bytes, allocator(), owner);
    }

    /**
     * A view of {@code bytes} bytes of {@code parent} starting at {@code offset}, which must be a
     * multiple of {@link #viewAlignment()}. The view uses the parent's memory (it is not
     * accounted again) and must be closed before the parent.
     */
    DeviceBuffer view(DeviceBuffer parent, long offset, long bytes, String owner);

    /** The alignment, in bytes, of the offsets {@link #view} accepts. */
    long viewAlignment();

    /**
     * Whether this device's buffers are host memory that kernels read and write in place, so a
     * host tensor can serve as a kernel argument with nothing copied ({@link #hostView}). True
     * on the CPU backend; GPU devices copy.
     */
    default boolean sharesHostMemory() {
        return false;
    }

    /**
     * A buffer that is {@code tensor}'s own memory, for a device that {@link #sharesHostMemory()}:
     * kernels given it read and write the tensor directly. Like a {@link #view} it costs nothing
     * and is not accounted; it must be closed before the tensor is, and its writes are the
     * tensor's.
     *
     * @throws UnsupportedOperationException if the device does not share host memory
     */
    default DeviceBuffer hostView(Tensor tensor, String owner) {
        throw new UnsupportedOperationException(name() + " does not share host memory: upload " + tensor + " instead");
    }

    /** Copies a host tensor into {@code dst} (blocking); {@code dst} must be at least as large. */
    void upload(Tensor src, DeviceBuffer dst);

    /** Waits for queued work, then copies the first {@code dst.byteSize()} bytes of {@code src} into {@code dst}. */
    void download(DeviceBuffer src, Tensor dst);

    /** Whether {@link #prepare} has a kernel for this op (shapes aside). */
    boolean supports(Op op);

    /**
     * A kernel for {@code op} on these input shapes; its program is built once per device and
     * option set. The caller closes the kernel.
     *
     * @throws UnsupportedOpException if this device has no kernel for the op
     */
    Kernel prepare(Op op, List<Shape> inputs);

    /** Waits until all queued work has finished. */
    void synchronize();

    /** Releases the device; throws, naming them, if buffers are still live. */
    @Override
    void close();
}
