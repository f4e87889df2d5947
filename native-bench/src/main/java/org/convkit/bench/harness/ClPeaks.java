package org.convkit.bench.harness;

import static org.jocl.CL.CL_CONTEXT_PLATFORM;
import static org.jocl.CL.CL_DEVICE_TYPE_ALL;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_TRUE;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;

/**
 * An OpenCL device's peaks, measured through JOCL with the kernels of {@code peak.cl}
 * (clpeak-style, independent of convkit's kernels): FMA throughput, device copy bandwidth (bytes
 * read + written), host-to-device and device-to-host transfers of 256 MiB, and the round trip of
 * an empty kernel. Devices are numbered as convkit numbers them (platform order).
 */
public final class ClPeaks {
    private static final long BYTES = 256L << 20;

    private ClPeaks() {
    }

    public static Peaks measure(int index, int repeats) {
        CL.setExceptionsEnabled(true);
        cl_platform_id platform = null;
        cl_device_id device = null;
        int[] np = new int[1];
        CL.clGetPlatformIDs(0, null, np);
        cl_platform_id[] ps = new cl_platform_id[np[0]];
        CL.clGetPlatformIDs(ps.length, ps, null);
        int k = 0;
        for (cl_platform_id p : ps) {
            int[] nd = new int[1];
            CL.clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, nd);
            cl_device_id[] ds = new cl_device_id[nd[0]];
            CL.clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, ds.length, ds, null);
            for (cl_device_id d : ds) {
                if (k++ == index) {
                    platform = p;
                    device = d;
                }
            }
        }
        if (device == null) {
            throw new IllegalArgumentException("no OpenCL device " + index);
        }
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, platform);
        cl_context ctx = CL.clCreateContext(props, 1, new cl_device_id[] {device}, null, null, null);
        @SuppressWarnings("deprecation")
        cl_command_queue q = CL.clCreateCommandQueue(ctx, device, 0, null);
        cl_program prog = CL.clCreateProgramWithSource(ctx, 1, new String[] {source()}, null, null);
        CL.clBuildProgram(prog, 0, null, "-cl-std=CL1.2", null, null);
        cl_kernel fma = CL.clCreateKernel(prog, "fma_peak", null);
        cl_kernel copy = CL.clCreateKernel(prog, "copy", null);
        cl_kernel empty = CL.clCreateKernel(prog, "empty", null);
        cl_mem a = CL.clCreateBuffer(ctx, CL_MEM_READ_WRITE, BYTES, null, null);
        cl_mem b = CL.clCreateBuffer(ctx, CL_MEM_READ_WRITE, BYTES, null, null);
        try {
            int[] units = new int[1];
            CL.clGetDeviceInfo(device, CL.CL_DEVICE_MAX_COMPUTE_UNITS, Sizeof.cl_uint, Pointer.to(units), null);
            long items = Math.max(1, units[0]) * 4096L;
            int iterations = 4096;
            CL.clSetKernelArg(fma, 0, Sizeof.cl_mem, Pointer.to(a));
            CL.clSetKernelArg(fma, 1, Sizeof.cl_int, Pointer.to(new int[] {iterations}));
            CL.clSetKernelArg(fma, 2, Sizeof.cl_float, Pointer.to(new float[] {0.999999f}));
            List<Double> gflops = new ArrayList<>();
            for (int r = -1; r < repeats; r++) {
                double s = time(q, fma, items, 64);
                if (r >= 0) {
                    gflops.add(items * (double) iterations * 8 * 16 * 2 / s / 1e9);
                }
            }
            CL.clSetKernelArg(copy, 0, Sizeof.cl_mem, Pointer.to(a));
            CL.clSetKernelArg(copy, 1, Sizeof.cl_mem, Pointer.to(b));
            List<Double> bw = new ArrayList<>();
            for (int r = -1; r < repeats; r++) {
                double s = time(q, copy, BYTES / 16, 256);
                if (r >= 0) {
                    bw.add(2.0 * BYTES / s / 1e9);
                }
            }
            ByteBuffer host = ByteBuffer.allocateDirect((int) BYTES).order(ByteOrder.nativeOrder());
            List<Double> up = new ArrayList<>();
            List<Double> down = new ArrayList<>();
            for (int r = -1; r < repeats; r++) {
                long t0 = System.nanoTime();
                CL.clEnqueueWriteBuffer(q, a, CL_TRUE, 0, BYTES, Pointer.to(host), 0, null, null);
                long t1 = System.nanoTime();
                CL.clEnqueueReadBuffer(q, a, CL_TRUE, 0, BYTES, Pointer.to(host), 0, null, null);
                long t2 = System.nanoTime();
                if (r >= 0) {
                    up.add(BYTES / ((t1 - t0) / 1e9) / 1e9);
                    down.add(BYTES / ((t2 - t1) / 1e9) / 1e9);
                }
            }
            CL.clSetKernelArg(empty, 0, Sizeof.cl_mem, Pointer.to(a));
            List<Double> launch = new ArrayList<>();
            for (int r = 0; r < 2000; r++) {
                long t0 = System.nanoTime();
                CL.clEnqueueNDRangeKernel(q, empty, 1, null, new long[] {1}, null, 0, null, null);
                CL.clFinish(q);
                if (r >= 100) {
                    launch.add((System.nanoTime() - t0) / 1e3);
                }
            }
            return new Peaks("opencl:" + index, Stats.of(gflops), Stats.of(bw), Stats.of(up), Stats.of(down), Stats.of(launch),
                    "peak.cl through JOCL: " + items + " work-items (groups of 64) x 8 float16 FMA chains x " + iterations
                            + " rounds; float4 copy of 256 MiB; 256 MiB transfers; empty kernel of one work-item");
        } finally {
            CL.clReleaseMemObject(a);
            CL.clReleaseMemObject(b);
            CL.clReleaseKernel(fma);
            CL.clReleaseKernel(copy);
            CL.clReleaseKernel(empty);
            CL.clReleaseProgram(prog);
            CL.clReleaseCommandQueue(q);
            CL.clReleaseContext(ctx);
            CL.setExceptionsEnabled(false);
        }
    }

    private static double time(cl_command_queue q, cl_kernel k, long global, long local) {
        long t0 = System.nanoTime();
        CL.clEnqueueNDRangeKernel(q, k, 1, null, new long[] {global}, new long[] {local}, 0, null, null);
        CL.clFinish(q);
        return (System.nanoTime() - t0) / 1e9;
    }

    private static String source() {
        try (InputStream in = ClPeaks.class.getResourceAsStream("/org/convkit/bench/peak.cl")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
