package org.convkit.bench.harness;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import org.convkit.bench.PeakFma;

/**
 * The CPU backend's peaks, with the Vector API: FMA throughput with 12 independent vector
 * accumulators per thread (FMA latency 4 cycles x 2 pipes needs at least 8 in flight) on every
 * thread the CPU device uses; bandwidth as a large copy between two 256 MiB off-heap segments
 * split across the threads (bytes read + written); the "launch" round trip as an empty task
 * handed to the worker pool and waited for.
 */
public final class CpuPeaks {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private CpuPeaks() {
    }

    public static Peaks measure(int threads, int repeats) {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            // PeakFma warms its chains up before timing (a first call can run interpreted).
            List<Double> gflops = new ArrayList<>();
            for (double g : PeakFma.measure(threads, repeats)) {
                gflops.add(g);
            }
            List<Double> bw = new ArrayList<>();
            long bytes = 256L << 20;
            try (Arena arena = Arena.ofShared()) {
                MemorySegment a = arena.allocate(bytes, 4096);
                MemorySegment b = arena.allocate(bytes, 4096);
                a.fill((byte) 1);
                b.fill((byte) 2);
                copy(pool, threads, a, b);
                for (int r = 0; r < repeats; r++) {
                    long t0 = System.nanoTime();
                    copy(pool, threads, a, b);
                    bw.add(2.0 * bytes / ((System.nanoTime() - t0) / 1e9) / 1e9);
                }
            }
            List<Double> launch = new ArrayList<>();
            for (int r = 0; r < 2000; r++) {
                long t0 = System.nanoTime();
                pool.submit(() -> { }).get();
                if (r >= 100) {
                    launch.add((System.nanoTime() - t0) / 1e3);
                }
            }
            return new Peaks("cpu", Stats.of(gflops), Stats.of(bw), Stats.of(Double.NaN), Stats.of(Double.NaN),
                    Stats.of(launch), "Vector API FMA (PeakFma), " + PeakFma.CHAINS + " accumulators of " + S.length() + " floats per thread, "
                    + threads + " threads; copy of 256 MiB; empty task round trip");
        } catch (Exception e) {
            throw new IllegalStateException("cpu peaks: " + e, e);
        } finally {
            pool.shutdownNow();
        }
    }

    private static void copy(ExecutorService pool, int threads, MemorySegment a, MemorySegment b) throws Exception {
        long chunk = a.byteSize() / threads;
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long off = t * chunk;
            fs.add(pool.submit(() -> MemorySegment.copy(a, off, b, off, chunk)));
        }
        for (Future<?> f : fs) {
            f.get();
        }
    }
}
