package org.convkit.backend.opencl;

import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.convkit.backend.Device;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;
import org.jocl.cl_program;

/**
 * Test access to the OpenCL backend's internals for other backends' tests: runs one launch
 * described as data on an OpenCL device, and reads the work sizes a {@code Cl<Op>} kernel uses.
 * The CUDA tests use it to prove that each {@code Cuda<Op>} makes the launches its OpenCL twin
 * makes (same entries, arguments and sizes), on machines without a GPU.
 */
public final class ClLaunchRunner {
    private ClLaunchRunner() {
    }

    /**
     * Queues {@code entry} of {@code source} (a path under {@code kernels/}) built with the source's
     * default macro values except {@code defines}, on {@code device} (an OpenCL device), with the
     * arguments in order: a {@link DeviceBuffer}, {@code null} (a null buffer), an {@link Integer},
     * a {@link Float}, a {@link Long} or an {@code int[8]} (an OpenCL int8 / uint8).
     */
    public static void run(Device device, String source, Map<String, Integer> defines, String entry, long[] global,
            long[] local, List<Object> args) {
        ClDevice cl = (ClDevice) device;
        cl_kernel k = cl.kernel(cl.program(source, defines), entry);
        try {
            for (int i = 0; i < args.size(); i++) {
                Object a = args.get(i);
                switch (a) {
                    case null -> ClDevice.setArg(k, i, (DeviceBuffer) null);
                    case DeviceBuffer b -> ClDevice.setArg(k, i, b);
                    case Integer v -> ClDevice.setArg(k, i, v.intValue());
                    case Float v -> ClDevice.setArg(k, i, v.floatValue());
                    case Long v -> Cl.check(CL.clSetKernelArg(k, i, Sizeof.cl_long, Pointer.to(new long[] {v})),
                            cl.name(), "clSetKernelArg", "long argument " + i);
                    case int[] v -> Cl.check(CL.clSetKernelArg(k, i, (long) Sizeof.cl_int * v.length, Pointer.to(v)),
                            cl.name(), "clSetKernelArg", "int8 argument " + i + " = " + Arrays.toString(v));
                    default -> throw new IllegalArgumentException("argument " + i + ": unsupported " + a.getClass());
                }
            }
            cl.launch(k, entry + " (test launch)", global, local);
            cl.synchronize();
        } finally {
            CL.clReleaseKernel(k);
        }
    }

    /** The entry names of {@code source} (a path under {@code kernels/}), as the OpenCL compiler lists them. */
    public static Set<String> entries(Device device, String source) {
        ClDevice cl = (ClDevice) device;
        cl_program p = cl.program(source, Map.of());
        long[] size = new long[1];
        Cl.check(CL.clGetProgramInfo(p, CL.CL_PROGRAM_KERNEL_NAMES, 0, null, size), cl.name(), "clGetProgramInfo", source);
        byte[] names = new byte[(int) size[0]];
        Cl.check(CL.clGetProgramInfo(p, CL.CL_PROGRAM_KERNEL_NAMES, names.length, Pointer.to(names), null), cl.name(),
                "clGetProgramInfo", source);
        String list = new String(names, 0, Math.max(0, names.length - 1), StandardCharsets.UTF_8);
        return new TreeSet<>(Arrays.asList(list.split(";")));
    }

    /**
     * The global and local sizes of each launch a {@code Cl<Op>} kernel makes, read from its fields
     * ({@code global}/{@code local}, or {@code globals}/{@code locals} for one launch per input); a
     * local size the kernel does not keep in a field is null. Empty for kernels that compute their
     * sizes at launch time.
     */
    public static List<long[][]> workSizes(Kernel k) {
        List<long[][]> out = new ArrayList<>();
        Object global = field(k, "global");
        Object globals = field(k, "globals");
        if (global instanceof long[] g) {
            out.add(new long[][] {g, (long[]) field(k, "local")});
        } else if (globals instanceof long[][] gs) {
            long[][] ls = (long[][]) field(k, "locals");
            for (int i = 0; i < gs.length; i++) {
                out.add(new long[][] {gs[i], ls[i]});
            }
        }
        return out;
    }

    /** The value of a field declared by the kernel's class or its superclasses, or null. */
    private static Object field(Object o, String name) {
        for (Class<?> c = o.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f.get(o);
            } catch (NoSuchFieldException e) {
                // Declared higher up, if at all.
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
        return null;
    }
}
