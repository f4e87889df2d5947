package org.convkit.bench.harness;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Summary of repeated timings: median, min, max, and whether the spread is wide enough to be
 * worth a note (this machine is shared: a vCPU can lose 10-40% of its time in bursts).
 *
 * @param median middle value (the mean of the two middle ones for an even count)
 * @param min fastest
 * @param max slowest
 * @param count number of samples
 */
public record Stats(double median, double min, double max, int count) {
    /** (max - min) / median above which a result is flagged as noisy. */
    public static final double WIDE = 0.25;

    public static Stats of(List<Double> samples) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("stats: no samples");
        }
        double[] s = samples.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = s.length;
        double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        return new Stats(median, s[0], s[n - 1], n);
    }

    public static Stats of(double... samples) {
        return of(Arrays.stream(samples).boxed().toList());
    }

    /** {@code "median [min,max]"} with three decimals, as the comparison harnesses print it. */
    public String brief() {
        return String.format(Locale.ROOT, "%.3f [%.3f,%.3f]", median, min, max);
    }

    /** Whether (max - min) / median exceeds {@link #WIDE}. */
    public boolean wide() {
        return (max - min) / median > WIDE;
    }
}
