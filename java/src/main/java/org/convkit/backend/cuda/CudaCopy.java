package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.Op;
import org.convkit.tensor.Shape;

/**
 * The kernel of the ops whose output is their input's elements in the same order under other
 * dimensions ({@link CudaFlatten}, {@link CudaReshape}): a device-to-device copy with
 * {@code kernels/copy/copy.cu}, entry {@code copy_f32}, launched as {@code ClCopy} launches its
 * OpenCL twin (at most {@link #MAX_GROUPS} blocks; each thread loops over the rest).
 */
abstract class CudaCopy extends CudaKernel {
    static final String MODULE = "copy/copy";
    static final String ENTRY = "copy_f32";
    /** Block size (copy.cl's default). */
    static final int WG = 256;
    /** At most this many blocks; each thread loops over the rest (grid-stride). */
    static final int MAX_GROUPS = 2048;

    CudaCopy(CudaDevice device, Op op, Shape input) {
        super(device, op, List.of(input));
        use(plan(input));
    }

    static List<CudaLaunch> plan(Shape input) {
        long count = input.elementCount();
        long[] global = {Math.min((count + WG - 1) / WG, MAX_GROUPS) * WG};
        return List.of(CudaLaunch.of(MODULE, ENTRY, global, new long[] {WG}).input(0).output().ints((int) count).build());
    }
}
