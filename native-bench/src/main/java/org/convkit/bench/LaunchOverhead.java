package org.convkit.bench;

import java.util.Arrays;

import org.convkit.ops.ActivationOp;
import org.convkit.tensor.Shape;

/**
 * Where an empty OpenCL launch's time goes on the Java side: relu of one element on
 * {@code opencl:0}, timed as a whole ({@link OpRunner#run()}) and in its two halves (queueing,
 * {@code Kernel.run}; waiting, {@code Device.synchronize}), in blocks of launches so that the
 * JIT's progress shows: the binding suite measures only 150 iterations after 3 warm-up runs.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
 *      -cp native-bench/target/benchmarks.jar org.convkit.bench.LaunchOverhead [device] [blocks] [block]
 * </pre>
 */
public final class LaunchOverhead {
    private LaunchOverhead() {
    }

    public static void main(String[] a) {
        String device = a.length > 0 ? a[0] : "opencl:0";
        int blocks = a.length > 1 ? Integer.parseInt(a[1]) : 20;
        int block = a.length > 2 ? Integer.parseInt(a[2]) : 5000;
        try (OpRunner r = OpRunner.open(device, BenchCase.of(ActivationOp.relu(), Shape.of(1)))) {
            long[] whole = new long[block];
            long[] queue = new long[block];
            long[] wait = new long[block];
            int done = 0;
            System.out.println("launches so far   whole us (median, min)   queue us (median, min)   wait us (median, min)");
            for (int b = 0; b < blocks; b++) {
                for (int i = 0; i < block; i++) {
                    long t0 = System.nanoTime();
                    r.run();
                    long t1 = System.nanoTime();
                    r.queue();
                    long t2 = System.nanoTime();
                    r.waitForDevice();
                    long t3 = System.nanoTime();
                    whole[i] = t1 - t0;
                    queue[i] = t2 - t1;
                    wait[i] = t3 - t2;
                }
                done += 2 * block;
                System.out.printf("%15d   %8.2f %8.2f        %8.2f %8.2f        %8.2f %8.2f%n", done, median(whole),
                        min(whole) / 1e3, median(queue), min(queue) / 1e3, median(wait), min(wait) / 1e3);
            }
        }
    }

    private static double median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2] / 1e3;
    }

    private static long min(long[] v) {
        return Arrays.stream(v).min().orElse(0);
    }
}
