package org.convkit.backend.opencl;

import static org.jocl.CL.CL_DEVICE_GLOBAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_COMPUTE_UNITS;
import static org.jocl.CL.CL_DEVICE_NAME;
import static org.jocl.CL.CL_DEVICE_NOT_FOUND;
import static org.jocl.CL.CL_DEVICE_TYPE;
import static org.jocl.CL.CL_DEVICE_TYPE_ACCELERATOR;
import static org.jocl.CL.CL_DEVICE_TYPE_ALL;
import static org.jocl.CL.CL_DEVICE_TYPE_CPU;
import static org.jocl.CL.CL_DEVICE_TYPE_GPU;
import static org.jocl.CL.CL_DEVICE_VERSION;
import static org.jocl.CL.CL_DRIVER_VERSION;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.CL_SUCCESS;

import java.util.ArrayList;
import java.util.List;

import org.convkit.backend.Backend;
import org.convkit.backend.BackendUnavailableException;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.backend.NativeLibraries;
import org.jocl.CL;
import org.jocl.LibUtils;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * OpenCL through JOCL: every device of every platform the ICD loader knows, numbered
 * {@code opencl:0}, {@code opencl:1}... in platform order. PoCL makes the CPU an OpenCL device,
 * so this backend runs for real on machines without a GPU.
 */
public final class OpenClBackend implements Backend {
    private record Found(cl_platform_id platform, cl_device_id device, DeviceInfo info) {
    }

    private List<Found> found;

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public synchronized List<DeviceInfo> discover() {
        if (found == null) {
            found = scan();
        }
        return found.stream().map(Found::info).toList();
    }

    @Override
    public Device open(int index) {
        List<DeviceInfo> infos = discover();
        if (index < 0 || index >= infos.size()) {
            throw new IllegalArgumentException("opencl: no device " + index + " (found " + infos.size() + ")");
        }
        Found f = found.get(index);
        return new ClDevice(f.info(), f.platform(), f.device());
    }

    private static List<Found> scan() {
        int[] count = new int[1];
        int err;
        try {
            SignalGuard.capture(); // the JVM's signal handlers, before the driver's compiler can replace them
            err = NativeLibraries.whileLoading(() -> {
                unpackJocl();
                CL.setExceptionsEnabled(false);
                return CL.clGetPlatformIDs(0, null, count);
            });
        } catch (LinkageError e) {
            throw new BackendUnavailableException("the JOCL native library could not be loaded (is an OpenCL ICD loader, "
                    + "libOpenCL.so.1, installed?): " + e.getMessage(), e);
        }
        if (err == -1001 || (err == CL_SUCCESS && count[0] == 0)) {
            throw new BackendUnavailableException("no OpenCL platform: the ICD loader found no driver (install a GPU "
                    + "vendor's OpenCL driver, or PoCL for the CPU: apt-get install pocl-opencl-icd)");
        }
        Cl.check(err, "opencl", "clGetPlatformIDs", null);
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        Cl.check(CL.clGetPlatformIDs(platforms.length, platforms, null), "opencl", "clGetPlatformIDs", null);

        List<Found> out = new ArrayList<>();
        for (cl_platform_id p : platforms) {
            int[] n = new int[1];
            int e = CL.clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, n);
            if (e == CL_DEVICE_NOT_FOUND || n[0] == 0) {
                continue;
            }
            Cl.check(e, "opencl", "clGetDeviceIDs", null);
            cl_device_id[] ds = new cl_device_id[n[0]];
            Cl.check(CL.clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, ds.length, ds, null), "opencl", "clGetDeviceIDs", null);
            String platformName = Cl.platformString(p, CL_PLATFORM_NAME);
            for (cl_device_id d : ds) {
                int index = out.size();
                String version = Cl.deviceString(d, CL_DEVICE_VERSION);
                String platform = platformName + ", " + shortVersion(version) + ", driver " + Cl.deviceString(d, CL_DRIVER_VERSION);
                DeviceInfo info = new DeviceInfo("opencl:" + index, "opencl", index, kind(Cl.deviceLong(d, CL_DEVICE_TYPE)),
                        Cl.deviceString(d, CL_DEVICE_NAME), platform, Cl.deviceInt(d, CL_DEVICE_MAX_COMPUTE_UNITS),
                        Cl.deviceLong(d, CL_DEVICE_GLOBAL_MEM_SIZE));
                out.add(new Found(p, d, info));
            }
        }
        if (out.isEmpty()) {
            throw new BackendUnavailableException("OpenCL platforms found (" + platforms.length + ") but no devices");
        }
        return List.copyOf(out);
    }

    /**
     * Writes JOCL's JNI library into convkit's private folder (see {@link NativeLibraries}), under
     * the name JOCL's loader gives it; its version is the jocl module's (the jar's).
     */
    private static void unpackJocl() {
        String version = CL.class.getModule().getDescriptor() != null
                ? CL.class.getModule().getDescriptor().rawVersion().orElse(null) : null;
        if (version == null) {
            version = CL.class.getPackage().getImplementationVersion();
        }
        if (version == null) {
            return;
        }
        String file = LibUtils.createLibraryFileName(LibUtils.createPlatformLibraryName("JOCL_" + version.replace('.', '_')));
        NativeLibraries.unpack(LibUtils.class.getClassLoader(), "lib/" + file, file);
    }

    /** "OpenCL 3.0 PoCL HSTR: ..." becomes "OpenCL 3.0". */
    private static String shortVersion(String version) {
        String[] parts = version.split("\\s+");
        return parts.length >= 2 ? parts[0] + " " + parts[1] : version;
    }

    private static DeviceInfo.Kind kind(long type) {
        if ((type & CL_DEVICE_TYPE_GPU) != 0) {
            return DeviceInfo.Kind.GPU;
        }
        if ((type & CL_DEVICE_TYPE_ACCELERATOR) != 0) {
            return DeviceInfo.Kind.ACCELERATOR;
        }
        if ((type & CL_DEVICE_TYPE_CPU) != 0) {
            return DeviceInfo.Kind.CPU;
        }
        return DeviceInfo.Kind.OTHER;
    }
}
