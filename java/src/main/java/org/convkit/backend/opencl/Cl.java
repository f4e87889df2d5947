package org.convkit.backend.opencl;

import static org.jocl.CL.CL_SUCCESS;

import java.nio.charset.StandardCharsets;

import org.convkit.backend.DeviceException;
import org.convkit.memory.OutOfDeviceMemoryException;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/** Small helpers over JOCL: error checks that produce {@link DeviceException}s, and info queries. */
final class Cl {
    private Cl() {
    }

    /** The symbolic name of an OpenCL error code, e.g. {@code CL_OUT_OF_RESOURCES}. */
    static String errorName(int code) {
        if (code == -1001) {
            return "CL_PLATFORM_NOT_FOUND_KHR";
        }
        String s = CL.stringFor_errorCode(code);
        return s != null && s.startsWith("CL_") ? s : "CL_UNKNOWN_ERROR";
    }

    /** Throws a {@link DeviceException} unless {@code code} is CL_SUCCESS. */
    static void check(int code, String device, String call, String context) {
        if (code != CL_SUCCESS) {
            throw new DeviceException(device, call, code, errorName(code), context);
        }
    }

    /** Whether a code means the device ran out of memory. */
    static boolean isOutOfMemory(int code) {
        return code == CL.CL_MEM_OBJECT_ALLOCATION_FAILURE || code == CL.CL_OUT_OF_RESOURCES
                || code == CL.CL_OUT_OF_HOST_MEMORY || code == CL.CL_INVALID_BUFFER_SIZE;
    }

    /** Like {@link #check}, but out-of-memory codes become {@link OutOfDeviceMemoryException}. */
    static void checkAllocation(int code, String device, String call, long bytes, String owner, String tree) {
        if (code == CL_SUCCESS) {
            return;
        }
        DeviceException e = new DeviceException(device, call, code, errorName(code), owner + ", " + bytes + " B");
        if (isOutOfMemory(code)) {
            throw new OutOfDeviceMemoryException(bytes, owner, device + " refused it: " + call + " returned "
                    + errorName(code), tree, e);
        }
        throw e;
    }

    /** One clGet*Info call: parameter, size, destination, size returned. */
    private interface InfoQuery {
        int get(int param, long size, Pointer value, long[] sizeRet);
    }

    private static String infoString(String call, InfoQuery q, int param) {
        long[] size = new long[1];
        check(q.get(param, 0, null, size), "opencl", call, "param " + param);
        byte[] buf = new byte[(int) size[0]];
        check(q.get(param, buf.length, Pointer.to(buf), null), "opencl", call, "param " + param);
        return cString(buf);
    }

    /**
     * For calls that use buffers (transfers, launches): drivers may allocate a buffer's memory
     * only on first use, so an out-of-memory code here becomes an
     * {@link OutOfDeviceMemoryException} like a refused {@code clCreateBuffer}. {@code bytes} is
     * what the call needed, or -1 when it cannot be told (a launch).
     */
    static void checkUse(int code, String device, String call, String context, long bytes, String owner, String tree) {
        if (code == CL_SUCCESS) {
            return;
        }
        DeviceException e = new DeviceException(device, call, code, errorName(code), context);
        if (isOutOfMemory(code) && code != CL.CL_INVALID_BUFFER_SIZE) {
            throw new OutOfDeviceMemoryException(bytes, owner, device + " ran out of memory when it first used the "
                    + "buffers (deferred allocation): " + call + " returned " + errorName(code) + " [" + context + "]", tree, e);
        }
        throw e;
    }

    static String platformString(cl_platform_id p, int param) {
        return infoString("clGetPlatformInfo", (pr, sz, v, r) -> CL.clGetPlatformInfo(p, pr, sz, v, r), param);
    }

    static String deviceString(cl_device_id d, int param) {
        return infoString("clGetDeviceInfo", (pr, sz, v, r) -> CL.clGetDeviceInfo(d, pr, sz, v, r), param);
    }

    static int deviceInt(cl_device_id d, int param) {
        int[] v = new int[1];
        check(CL.clGetDeviceInfo(d, param, Sizeof.cl_uint, Pointer.to(v), null), "opencl", "clGetDeviceInfo",
                "param " + param);
        return v[0];
    }

    static long deviceLong(cl_device_id d, int param) {
        long[] v = new long[1];
        check(CL.clGetDeviceInfo(d, param, Sizeof.cl_ulong, Pointer.to(v), null), "opencl", "clGetDeviceInfo",
                "param " + param);
        return v[0];
    }

    static long deviceSize(cl_device_id d, int param) {
        long[] v = new long[1];
        check(CL.clGetDeviceInfo(d, param, Sizeof.size_t, Pointer.to(v), null), "opencl", "clGetDeviceInfo",
                "param " + param);
        return v[0];
    }

    private static String cString(byte[] buf) {
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
            n++;
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8).trim();
    }
}
