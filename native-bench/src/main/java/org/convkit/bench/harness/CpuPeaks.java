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

/**
 * The CPU backend's peaks, with the Vector API: FMA throughput with 12 independent vector
 * accumulators per thread (FMA latency 4 cycles x 2 pipes needs at least 8 in flight) on every
 * thread the CPU device uses; bandwidth as a large copy between two 256 MiB off-heap segments
 * split across the threads (bytes read + written); the "launch" round trip as an empty task
 * handed to the worker pool and waited for.
 */
public final class CpuPeaks {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int CHAINS = 12;

    private CpuPeaks() {
    }

    public static Peaks measure(int threads, int repeats) {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Double> gflops = new ArrayList<>();
            long iterations = 20_000_000L / S.length();
            fma(pool, threads, iterations / 10);
            for (int r = 0; r < repeats; r++) {
                long t0 = System.nanoTime();
                float sink = fma(pool, threads, iterations);
                double s = (System.nanoTime() - t0) / 1e9;
                gflops.add(2.0 * S.length() * CHAINS * iterations * threads / s / 1e9 + (sink == 42f ? 1e-9 : 0));
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
                    Stats.of(launch), "Vector API FMA, " + CHAINS + " accumulators of " + S.length() + " floats per thread, "
                    + threads + " threads; copy of 256 MiB; empty task round trip");
        } catch (Exception e) {
            throw new IllegalStateException("cpu peaks: " + e, e);
        } finally {
            pool.shutdownNow();
        }
    }

    private static float fma(ExecutorService pool, int threads, long iterations) throws Exception {
        List<Future<Float>> fs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            fs.add(pool.submit(() -> fmaChains(iterations)));
        }
        float s = 0;
        for (Future<Float> f : fs) {
            s += f.get();
        }
        return s;
    }

    private static float fmaChains(long iterations) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f);
        FloatVector b = FloatVector.broadcast(S, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(S, 1f), c1 = c0.add(1), c2 = c0.add(2), c3 = c0.add(3);
        FloatVector c4 = c0.add(4), c5 = c0.add(5), c6 = c0.add(6), c7 = c0.add(7);
        FloatVector c8 = c0.add(8), c9 = c0.add(9), c10 = c0.add(10), c11 = c0.add(11);
        for (long i = 0; i < iterations; i++) {
            c0 = c0.fma(m, b);
            c1 = c1.fma(m, b);
            c2 = c2.fma(m, b);
            c3 = c3.fma(m, b);
            c4 = c4.fma(m, b);
            c5 = c5.fma(m, b);
            c6 = c6.fma(m, b);
            c7 = c7.fma(m, b);
            c8 = c8.fma(m, b);
            c9 = c9.fma(m, b);
            c10 = c10.fma(m, b);
            c11 = c11.fma(m, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
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
