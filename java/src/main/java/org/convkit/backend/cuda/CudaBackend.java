package org.convkit.backend.cuda;

import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;

import org.convkit.backend.Backend;
import org.convkit.backend.BackendUnavailableException;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;

/**
 * CUDA through JCuda's driver API: the NVIDIA GPUs the driver sees, numbered {@code cuda:0},
 * {@code cuda:1}... in driver order. Kernels are PTX built by nvcc from {@code kernels/<op>/<op>.cu}
 * for compute capability 8.0 and 9.0 and compiled for the device by the driver when first used;
 * GPUs older than 8.0 are left out (and named in the reason when no other GPU remains).
 *
 * <p>Without the NVIDIA driver, discovery reports "no CUDA driver: libcuda.so.1 could not be
 * loaded", once (see {@link JCudaNatives} for how JCuda's own library is loaded).
 */
public final class CudaBackend implements Backend {
    /** The oldest compute capability the packaged PTX targets (compute_80), as major * 10 + minor. */
    static final int MIN_COMPUTE_CAPABILITY = 80;

    /** A listed device and the driver's ordinal for it (devices below 8.0 are skipped in convkit's numbering). */
    private record Found(DeviceInfo info, int ordinal) {
    }

    private List<Found> found;

    @Override
    public String name() {
        return "cuda";
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
            throw new IllegalArgumentException("cuda: no device " + index + " (found " + infos.size() + ")");
        }
        Found f = found.get(index);
        return new CudaDevice(f.info(), f.ordinal());
    }

    private static List<Found> scan() {
        JCudaNatives.start();
        int[] count = new int[1];
        Cuda.check(JCudaDriver.cuDeviceGetCount(count), "cuda", "cuDeviceGetCount", null);
        int[] version = new int[1];
        Cuda.check(JCudaDriver.cuDriverGetVersion(version), "cuda", "cuDriverGetVersion", null);
        String driver = "CUDA " + version[0] / 1000 + "." + version[0] % 1000 / 10;
        List<Found> out = new ArrayList<>();
        List<String> tooOld = new ArrayList<>();
        for (int ordinal = 0; ordinal < count[0]; ordinal++) {
            CUdevice d = new CUdevice();
            Cuda.check(JCudaDriver.cuDeviceGet(d, ordinal), "cuda", "cuDeviceGet", "ordinal " + ordinal);
            String model = name(d);
            int major = attribute(d, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
            int minor = attribute(d, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
            if (major * 10 + minor < MIN_COMPUTE_CAPABILITY) {
                tooOld.add(model + " (compute capability " + major + "." + minor + ")");
                continue;
            }
            long[] memory = new long[1];
            Cuda.check(JCudaDriver.cuDeviceTotalMem(memory, d), "cuda", "cuDeviceTotalMem", model);
            int index = out.size();
            String platform = driver + ", compute capability " + major + "." + minor;
            out.add(new Found(new DeviceInfo("cuda:" + index, "cuda", index, DeviceInfo.Kind.GPU, model, platform,
                    attribute(d, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT), memory[0]), ordinal));
        }
        if (out.isEmpty() && !tooOld.isEmpty()) {
            throw new BackendUnavailableException("CUDA devices found but none of compute capability 8.0 or newer, "
                    + "which convkit's PTX kernels need: " + String.join(", ", tooOld));
        }
        if (out.isEmpty()) {
            throw new BackendUnavailableException("no CUDA device: the driver lists none");
        }
        return List.copyOf(out);
    }

    static int attribute(CUdevice d, int attribute) {
        int[] v = new int[1];
        Cuda.check(JCudaDriver.cuDeviceGetAttribute(v, attribute, d), "cuda", "cuDeviceGetAttribute",
                "attribute " + attribute);
        return v[0];
    }

    private static String name(CUdevice d) {
        byte[] buf = new byte[256];
        Cuda.check(JCudaDriver.cuDeviceGetName(buf, buf.length, d), "cuda", "cuDeviceGetName", null);
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
            n++;
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8).trim();
    }
}
