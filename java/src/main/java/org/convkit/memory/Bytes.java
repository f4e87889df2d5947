package org.convkit.memory;

import java.util.Locale;

/** Byte counts for people: exact bytes with thousands separators, plus a binary-unit figure. */
public final class Bytes {
    private Bytes() {
    }

    /** {@code 12613600} becomes {@code 12,613,600 B (12.03 MiB)}; small values stay plain. */
    public static String format(long bytes) {
        String exact = String.format(Locale.ROOT, "%,d B", bytes);
        if (Math.abs(bytes) < 1024) {
            return exact;
        }
        return exact + " (" + binary(bytes) + ")";
    }

    /** {@code 565613600} becomes {@code 539.40 MiB}. */
    public static String binary(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = 0;
        while (Math.abs(v) >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? String.format(Locale.ROOT, "%d B", bytes) : String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }
}
