package org.convkit.bench.harness;

/**
 * One measured workload on one device.
 *
 * @param suite peaks, binding, ops or models
 * @param workload the case's name
 * @param device the device
 * @param ms time per call (ops) or per batch (models)
 * @param gflops GFLOP/s at the median (NaN when not meaningful)
 * @param gbs GB/s of compulsory traffic at the median (NaN when not meaningful)
 * @param percentOfPeak achieved / the device's measured roofline bound for this intensity, in percent
 * @param intensity FLOPs per byte of compulsory traffic
 * @param maxError max |y - y_cpu| / max |y_cpu| against the CPU backend (NaN on the CPU itself)
 * @param detail anything else, as text (images/s, latency percentiles, memory)
 */
public record Result(String suite, String workload, String device, Stats ms, double gflops, double gbs,
        double percentOfPeak, double intensity, double maxError, String detail) {
}
