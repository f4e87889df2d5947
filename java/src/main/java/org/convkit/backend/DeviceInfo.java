package org.convkit.backend;

import java.util.Locale;

import org.convkit.memory.Bytes;

/**
 * What a device is, known before it is opened.
 *
 * @param name selection name: {@code cpu}, {@code opencl:0}
 * @param backend the backend's name
 * @param index position in the backend's device list
 * @param kind CPU, GPU or accelerator
 * @param model the device's model, e.g. {@code pthread-skylake-avx512-AMD EPYC 9B45}
 * @param platform the driver or platform with its version, e.g. {@code OpenCL 3.0 PoCL 3.1}
 * @param computeUnits threads or compute units
 * @param memoryBytes global memory (host RAM for the CPU)
 */
public record DeviceInfo(String name, String backend, int index, Kind kind, String model, String platform,
        int computeUnits, long memoryBytes) {

    /** What kind of processor runs the kernels. */
    public enum Kind {
        CPU, GPU, ACCELERATOR, OTHER;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One line for listings. */
    public String describe() {
        return name + ": " + model + " (" + kind.id() + ", " + computeUnits + " compute units, "
                + Bytes.binary(memoryBytes) + ", " + platform + ")";
    }
}
