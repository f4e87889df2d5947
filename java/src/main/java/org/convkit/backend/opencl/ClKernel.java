package org.convkit.backend.opencl;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.convkit.backend.Kernel;
import org.convkit.ops.Op;
import org.convkit.tensor.Shape;
import org.jocl.CL;
import org.jocl.cl_kernel;

/**
 * The host side every OpenCL kernel shares, written once: the device, the refusal of tensors a
 * 32-bit index cannot address (every kernel under {@code kernels/} indexes with {@code int}, so
 * this applies to all subclasses), the work-group check, and the cl_kernel objects, which are
 * obtained through {@link #kernel} and released together by {@link #close}.
 */
abstract class ClKernel extends Kernel {
    /** The device this kernel runs on, typed for its OpenCL calls. */
    protected final ClDevice cl;
    /** Every cl_kernel obtained through {@link #kernel}, released by {@link #close}. */
    private final List<cl_kernel> kernels = new ArrayList<>();

    /** Prepares the op and refuses any argument or output of 2^31 elements or more. */
    protected ClKernel(ClDevice device, Op op, List<Shape> inputs) {
        super(device, op, inputs);
        this.cl = device;
        for (Shape s : argumentShapes()) {
            requireIntIndexable(s);
        }
        requireIntIndexable(outputShape());
    }

    /** Refuses a shape with more elements than a 32-bit index reaches, naming device, case and shape. */
    private void requireIntIndexable(Shape s) {
        if (s.elementCount() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(cl.name() + " " + describe() + ": tensor " + s + " has "
                    + s.elementCount() + " elements; this kernel indexes with 32-bit integers (at most 2^31 - 1)");
        }
    }

    /** A new cl_kernel for {@code entry} of {@code source} built with {@code defines}; released by {@link #close}. */
    protected final cl_kernel kernel(String source, Map<String, ?> defines, String entry) {
        cl_kernel k = cl.kernel(cl.program(source, defines), entry);
        kernels.add(k);
        return k;
    }

    /** {@code v} rounded up to a multiple of {@code m}: a global size that whole work-groups cover. */
    protected static long roundUp(long v, long m) {
        return (v + m - 1) / m * m;
    }

    /** Refuses a work-group of {@code size} work-items that the device cannot run. */
    protected final void requireWorkGroup(long size) {
        if (size > cl.maxWorkGroupSize()) {
            throw new IllegalStateException(cl.name() + ": " + op().name() + " work-group of " + size
                    + " exceeds the device's maximum of " + cl.maxWorkGroupSize());
        }
    }

    /** Releases every cl_kernel obtained through {@link #kernel} (once; a second close does nothing). */
    @Override
    public final void close() {
        for (cl_kernel k : kernels) {
            ClTrace.released(k);
            CL.clReleaseKernel(k);
            cl.kernelReleased();
        }
        kernels.clear();
    }
}
