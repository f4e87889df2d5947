package org.convkit.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;

import org.convkit.bench.harness.Stats;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The CPU's peak fused multiply-add rate, measured with the Vector API, so that a convolution's
 * GFLOP/s can be given as a share of what this machine does at that moment (a shared machine's
 * peak moves with its load).
 *
 * <p><b>Method.</b> Each thread runs {@value #CHAINS} independent accumulation chains
 * {@code c_i = c_i * a + b} on vectors of the preferred species (16 floats with AVX-512): a
 * chain waits for its previous FMA (about 4 cycles), so the chains must cover latency x pipes
 * (4 x 2 = 8 on Zen 5); 12 leave headroom without spilling registers. Nothing is loaded or
 * stored in the loop. {@code a} just below 1 and a tiny {@code b} keep the values normal (no
 * denormal slow path, no overflow). A call runs {@code threads} such threads at once, released
 * together, and counts 2 FLOPs per lane per FMA over the wall time from release to the last
 * thread's end. The JIT is warmed up first; {@link #measure} repeats the call and returns every
 * repetition, and the report uses the best as the peak (the conservative choice for a "% of
 * peak": noise only lowers a rate).
 *
 * <p>Run alone: {@code java --add-modules jdk.incubator.vector -cp native-bench/target/benchmarks.jar
 * org.convkit.bench.PeakFma} prints the rates on 1 and 2 threads.
 */
public final class PeakFma {
    /** Independent accumulation chains per thread. */
    public static final int CHAINS = 12;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Loop iterations per thread per call: 12 FMAs each, about 20 ms at 3-4 GHz with two pipes. */
    private static final long ITERATIONS = 6_000_000;

    private PeakFma() {
    }

    /** FLOPs one thread performs per call. */
    public static double flopsPerThread() {
        return ITERATIONS * (double) CHAINS * S.length() * 2;
    }

    /** {@code repeats} calls on {@code threads} threads after a warm-up; GFLOP/s of each call. */
    public static double[] measure(int threads, int repeats) {
        for (int i = 0; i < 3; i++) {
            once(threads);
        }
        double[] out = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            out[i] = once(threads);
        }
        return out;
    }

    /** One call: GFLOP/s of {@code threads} threads running the chains together. */
    public static double once(int threads) {
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(threads);
        float[] sink = new float[threads];
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                sink[id] = chains(ITERATIONS);
                done.countDown();
            }, "peak-fma-" + t);
            th.start();
            ts.add(th);
        }
        long t0 = System.nanoTime();
        start.countDown();
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        long t1 = System.nanoTime();
        float check = 0;
        for (float f : sink) {
            check += f;
        }
        if (!Float.isFinite(check)) {
            throw new IllegalStateException("peak probe diverged: " + check);
        }
        return threads * flopsPerThread() / (t1 - t0);
    }

    /** The FMA chains; returns their sum so that nothing is dead code. */
    static float chains(long iterations) {
        FloatVector a = FloatVector.broadcast(S, 0.9999f);
        FloatVector b = FloatVector.broadcast(S, 1e-6f);
        FloatVector c0 = FloatVector.broadcast(S, 0f), c1 = c0.add(1f), c2 = c0.add(2f), c3 = c0.add(3f);
        FloatVector c4 = c0.add(4f), c5 = c0.add(5f), c6 = c0.add(6f), c7 = c0.add(7f);
        FloatVector c8 = c0.add(8f), c9 = c0.add(9f), c10 = c0.add(10f), c11 = c0.add(11f);
        for (long i = 0; i < iterations; i++) {
            c0 = c0.fma(a, b);
            c1 = c1.fma(a, b);
            c2 = c2.fma(a, b);
            c3 = c3.fma(a, b);
            c4 = c4.fma(a, b);
            c5 = c5.fma(a, b);
            c6 = c6.fma(a, b);
            c7 = c7.fma(a, b);
            c8 = c8.fma(a, b);
            c9 = c9.fma(a, b);
            c10 = c10.fma(a, b);
            c11 = c11.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(VectorOperators.ADD);
    }

    /** Median of {@code v}. */
    static double median(double[] v) {
        return Stats.of(v).median();
    }

    public static void main(String[] args) {
        System.out.printf(Locale.ROOT, "vector species %s, %d chains per thread%n", S, CHAINS);
        for (int threads = 1; threads <= 2; threads++) {
            double[] r = measure(threads, 15);
            System.out.printf(Locale.ROOT, "%d thread(s): peak (best) %.1f GFLOP/s, median %.1f, min %.1f%n", threads,
                    Arrays.stream(r).max().orElse(0), median(r), Arrays.stream(r).min().orElse(0));
        }
    }
}
