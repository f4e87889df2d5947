package org.convkit.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import org.convkit.memory.Allocation;
import org.convkit.memory.Allocator;
import org.convkit.memory.Leaks;

/**
 * A host tensor: NCHW (or any rank), in one off-heap {@link MemorySegment} aligned to
 * {@value #ALIGNMENT} bytes so that OpenCL and CUDA can use it without copies. The segment is
 * owned by a shared {@link Arena} of its own and accounted in an {@link Allocator}; closing the
 * tensor frees both. Element accessors work in any dtype and convert to and from float.
 *
 * <p>Not thread-safe for writes; reads from several threads are fine.
 */
public final class Tensor implements AutoCloseable {
    /** Alignment of every tensor's data, in bytes (a page: zero-copy friendly for drivers). */
    public static final long ALIGNMENT = 4096;

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT;

    private final Shape shape;
    private final DType dtype;
    private final Arena arena;
    private final MemorySegment segment;
    private final Allocation allocation;
    private boolean closed;

    private Tensor(Shape shape, DType dtype, Arena arena, MemorySegment segment, Allocation allocation) {
        this.shape = shape;
        this.dtype = dtype;
        this.arena = arena;
        this.segment = segment;
        this.allocation = allocation;
        Leaks.watch(this, allocation, "host tensor");
    }

    /** A zero-filled f32 tensor accounted in {@link Allocator#host()}. */
    public static Tensor allocate(Shape shape) {
        return allocate(shape, DType.F32, Allocator.host(), "tensor " + shape);
    }

    /** A zero-filled tensor accounted in {@code allocator} under the name {@code owner}. */
    public static Tensor allocate(Shape shape, DType dtype, Allocator allocator, String owner) {
        long bytes = shape.byteSize(dtype);
        Allocation allocation = allocator.allocate(bytes, owner);
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg = arena.allocate(bytes, ALIGNMENT);
            return new Tensor(shape, dtype, arena, seg, allocation);
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            allocation.close();
            throw e;
        }
    }

    /** An f32 tensor holding a copy of {@code values}, which must have exactly the shape's element count. */
    public static Tensor of(Shape shape, float[] values, Allocator allocator, String owner) {
        if (values.length != shape.elementCount()) {
            throw new IllegalArgumentException("tensor: " + values.length + " values for shape " + shape + " ("
                    + shape.elementCount() + " elements)");
        }
        Tensor t = allocate(shape, DType.F32, allocator, owner);
        MemorySegment.copy(values, 0, t.segment, F32, 0, values.length);
        return t;
    }

    public Shape shape() {
        return shape;
    }

    public DType dtype() {
        return dtype;
    }

    public long elementCount() {
        return shape.elementCount();
    }

    public long byteSize() {
        return segment.byteSize();
    }

    /** The data; valid until {@link #close()}. */
    public MemorySegment segment() {
        checkOpen();
        return segment;
    }

    /** Element {@code i} in row-major order, as float. */
    public float get(long i) {
        checkOpen();
        return switch (dtype) {
            case F32 -> segment.getAtIndex(F32, i);
            case F16 -> Float.float16ToFloat(segment.getAtIndex(F16, i));
        };
    }

    /** Sets element {@code i} (rounded to the dtype). */
    public void set(long i, float v) {
        checkOpen();
        switch (dtype) {
            case F32 -> segment.setAtIndex(F32, i, v);
            case F16 -> segment.setAtIndex(F16, i, Float.floatToFloat16(v));
        }
    }

    /** Element (n, c, h, w) of an NCHW tensor. */
    public float get(int n, int c, int h, int w) {
        return get((((long) n * shape.c() + c) * shape.h() + h) * shape.w() + w);
    }

    /** Sets every element to {@code v}; {@code Float.NaN} poisons an output before a kernel writes it. */
    public Tensor fill(float v) {
        long count = elementCount();
        for (long i = 0; i < count; i++) {
            set(i, v);
        }
        return this;
    }

    /** Fills with independent uniform values in [lo, hi), reproducibly from {@code seed}. */
    public Tensor fillUniform(long seed, float lo, float hi) {
        SplittableRandom r = new SplittableRandom(seed);
        long count = elementCount();
        for (long i = 0; i < count; i++) {
            set(i, (float) (lo + (hi - lo) * r.nextDouble()));
        }
        return this;
    }

    /** A copy of the elements as floats (the tensor must have fewer than 2^31 elements). */
    public float[] toFloatArray() {
        long count = elementCount();
        if (count > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor " + shape + " is too large for a Java array");
        }
        float[] out = new float[(int) count];
        if (dtype == DType.F32) {
            MemorySegment.copy(segment(), F32, 0, out, 0, out.length);
        } else {
            for (int i = 0; i < out.length; i++) {
                out[i] = get(i);
            }
        }
        return out;
    }

    /** Copies all bytes of {@code src}, which must have the same shape and dtype. */
    public void copyFrom(Tensor src) {
        if (!src.shape.equals(shape) || src.dtype != dtype) {
            throw new IllegalArgumentException("tensor copy: source " + src.shape + " " + src.dtype.id()
                    + " does not match destination " + shape + " " + dtype.id());
        }
        MemorySegment.copy(src.segment(), 0, segment(), 0, segment.byteSize());
    }

    public boolean isClosed() {
        return closed;
    }

    /** Frees the memory and releases its accounting; later calls do nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        arena.close();
        allocation.close();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("tensor " + shape + " (" + allocation.owner() + ") is closed");
        }
    }

    @Override
    public String toString() {
        return "Tensor[" + shape + " " + dtype.id() + ", " + allocation.owner() + (closed ? ", closed" : "") + "]";
    }
}
