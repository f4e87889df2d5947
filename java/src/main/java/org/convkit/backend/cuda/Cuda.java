package org.convkit.backend.cuda;

import jcuda.driver.CUresult;

import org.convkit.backend.DeviceException;
import org.convkit.memory.OutOfDeviceMemoryException;

/** Small helpers over JCuda's driver API: error checks that produce {@link DeviceException}s with CUresult names. */
final class Cuda {
    private Cuda() {
    }

    /** The symbolic name of a CUresult, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    static String errorName(int code) {
        // CUresult.stringFor is a Java table: it names codes without the driver being loaded.
        String s = CUresult.stringFor(code);
        return s != null && s.startsWith("CUDA_") ? s : "CUDA_ERROR_UNKNOWN";
    }

    /** Throws a {@link DeviceException} unless {@code code} is CUDA_SUCCESS. */
    static void check(int code, String device, String call, String context) {
        if (code != CUresult.CUDA_SUCCESS) {
            throw new DeviceException(device, call, code, errorName(code), context);
        }
    }

    /**
     * Like {@link #check}, for a call that allocates: CUDA_ERROR_OUT_OF_MEMORY becomes an
     * {@link OutOfDeviceMemoryException} naming the requested bytes, the owner and the allocator tree.
     */
    static void checkAllocation(int code, String device, String call, long bytes, String owner, String tree) {
        if (code == CUresult.CUDA_SUCCESS) {
            return;
        }
        DeviceException e = new DeviceException(device, call, code, errorName(code), owner + ", " + bytes + " B");
        if (code == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            throw new OutOfDeviceMemoryException(bytes, owner, device + " refused it: " + call + " returned "
                    + errorName(code), tree, e);
        }
        throw e;
    }
}
