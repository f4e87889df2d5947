package org.convkit.backend.cuda;

import java.util.ArrayList;
import java.util.List;

import jcuda.driver.CUfunction;

import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.ops.Op;
import org.convkit.tensor.Shape;

/**
 * The host side every CUDA kernel shares, written once: the device, the refusal of tensors a
 * 32-bit index cannot address (the CUDA kernels index with {@code int} like their OpenCL twins),
 * and the launches. A subclass describes its launches as data ({@link CudaLaunch}, the same
 * entries, arguments and sizes as its {@code Cl<Op>} twin) and hands them to {@link #use} from
 * its constructor; {@link #launch} then only binds the buffers. There is nothing to release: the
 * functions belong to the device's cached modules.
 */
abstract class CudaKernel extends Kernel {
    /** The device this kernel runs on, typed for its CUDA calls. */
    protected final CudaDevice cuda;
    private List<CudaLaunch> launches = List.of();
    private List<CUfunction> functions = List.of();

    /** Prepares the op and refuses any argument or output of 2^31 elements or more. */
    protected CudaKernel(CudaDevice device, Op op, List<Shape> inputs) {
        super(device, op, inputs);
        this.cuda = device;
        for (Shape s : argumentShapes()) {
            requireIntIndexable(s);
        }
        requireIntIndexable(outputShape());
    }

    /** Refuses a shape with more elements than a 32-bit index reaches, naming device, case and shape. */
    private void requireIntIndexable(Shape s) {
        if (s.elementCount() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(cuda.name() + " " + describe() + ": tensor " + s + " has "
                    + s.elementCount() + " elements; this kernel indexes with 32-bit integers (at most 2^31 - 1)");
        }
    }

    /**
     * Sets this kernel's launches, in order: checks each against the device's limits and loads its
     * function (the module once per device). Called once, by the subclass constructor.
     */
    protected final void use(List<CudaLaunch> plan) {
        for (CudaLaunch l : plan) {
            cuda.checkLaunch(l, describe());
        }
        List<CUfunction> fs = new ArrayList<>();
        for (CudaLaunch l : plan) {
            fs.add(cuda.function(l.ptxModule(), l.entry()));
        }
        this.launches = List.copyOf(plan);
        this.functions = List.copyOf(fs);
    }

    /** The launches {@link #launch} makes, in order. */
    final List<CudaLaunch> launches() {
        return launches;
    }

    /** {@code v} rounded up to a multiple of {@code m}: a global size that whole blocks cover. */
    protected static long roundUp(long v, long m) {
        return (v + m - 1) / m * m;
    }

    @Override
    protected final void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        for (int i = 0; i < launches.size(); i++) {
            CudaLaunch l = launches.get(i);
            cuda.launch(functions.get(i), l, l.parameters(args, output, workspace), l.label() + " " + describe());
        }
    }
}
