package org.convkit.bench.harness;

/**
 * A device's measured capabilities, the denominators of every "% of peak" and of the roofline.
 *
 * @param device the device name, e.g. {@code opencl:0}
 * @param fmaGflops peak FP32 FMA throughput (a multiply-add counts 2)
 * @param copyGBs device memory bandwidth of a large copy (bytes read + written)
 * @param toDeviceGBs host to device transfer rate (NaN for the CPU backend: its buffers are host memory)
 * @param toHostGBs device to host transfer rate (NaN for the CPU backend)
 * @param launchMicros round trip of an empty kernel: queue it and wait for it
 * @param method how each figure was obtained, for the report
 */
public record Peaks(String device, Stats fmaGflops, Stats copyGBs, Stats toDeviceGBs, Stats toHostGBs, Stats launchMicros,
        String method) {
}
