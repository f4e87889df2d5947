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

    /**
     * Parses a size: a number of bytes with an optional unit, binary ({@code KiB, MiB, GiB, TiB})
     * or decimal ({@code kB, KB, MB, GB, TB}), e.g. {@code 256MiB}, {@code 1.5 GB}, {@code 12613600}.
     */
    public static long parse(String text) {
        String t = text.trim();
        int i = 0;
        while (i < t.length() && (Character.isDigit(t.charAt(i)) || t.charAt(i) == '.')) {
            i++;
        }
        String unit = t.substring(i).trim();
        double v;
        try {
            v = Double.parseDouble(t.substring(0, i));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("size: '" + text + "' does not start with a number");
        }
        long scale = switch (unit.toLowerCase(Locale.ROOT)) {
            case "", "b" -> 1L;
            case "kib" -> 1L << 10;
            case "mib" -> 1L << 20;
            case "gib" -> 1L << 30;
            case "tib" -> 1L << 40;
            case "kb" -> 1_000L;
            case "mb" -> 1_000_000L;
            case "gb" -> 1_000_000_000L;
            case "tb" -> 1_000_000_000_000L;
            default -> throw new IllegalArgumentException("size: unknown unit '" + unit + "' in '" + text
                    + "' (B, KiB, MiB, GiB, TiB, kB, MB, GB, TB)");
        };
        double bytes = v * scale;
        if (!(bytes >= 1) || bytes > Long.MAX_VALUE / 2.0) {
            throw new IllegalArgumentException("size: '" + text + "' is not a positive size");
        }
        return (long) bytes;
    }
}
