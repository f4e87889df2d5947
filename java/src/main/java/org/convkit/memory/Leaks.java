package org.convkit.memory;

import java.lang.ref.Cleaner;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reports a forgotten {@code close()}: every accounted buffer (device buffers, host tensors) is
 * watched by a {@link Cleaner}, and when one becomes unreachable while its bytes are still
 * reserved, a warning names it, its size, its allocator and, when sites are recorded, where it
 * was allocated. The bytes stay reserved (the allocator keeps showing the leak; freeing memory
 * behind the owner's back could hide a use after free), so a long run that leaks still fails its
 * flat-line check, now with the culprit named.
 *
 * <p>Sites are recorded with {@code -Dconvkit.memory.debug=true} (which also makes allocator
 * errors print them), with {@code -Dconvkit.leaks.sites=true}, or after
 * {@link #recordSites(boolean)}; recording costs a stack trace per allocation.
 */
public final class Leaks {
    private static final System.Logger LOG = System.getLogger("org.convkit.memory");
    private static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "convkit-leak-reporter");
        t.setDaemon(true);
        return t;
    });
    /** The latest reports, at most this many. */
    private static final int KEPT = 100;
    private static final Deque<String> REPORTS = new ArrayDeque<>();
    private static final AtomicLong COUNT = new AtomicLong();
    private static volatile boolean sites = Boolean.getBoolean("convkit.leaks.sites");

    private Leaks() {
    }

    /**
     * Watches {@code owner}, which holds {@code allocation}: if it is garbage collected while the
     * allocation is live, that is reported. {@code kind} says what it is ({@code device buffer}).
     */
    public static void watch(Object owner, Allocation allocation, String kind) {
        CLEANER.register(owner, () -> {
            if (allocation.isLive()) {
                report(kind, allocation);
            }
        });
    }

    /** Turns the recording of allocation sites on or off for allocations made from now on. */
    public static void recordSites(boolean on) {
        sites = on;
    }

    /** Whether allocations record where they are made. */
    public static boolean recordingSites() {
        return Allocator.DEBUG || sites;
    }

    /** Leaks reported since the process started. */
    public static long count() {
        return COUNT.get();
    }

    /** The latest reports (up to 100), oldest first. */
    public static List<String> reports() {
        synchronized (REPORTS) {
            return List.copyOf(REPORTS);
        }
    }

    private static void report(String kind, Allocation a) {
        StringBuilder sb = new StringBuilder(kind).append(" '").append(a.owner()).append("' (").append(Bytes.format(a.bytes()))
                .append(" in '").append(a.allocator().path()).append("') was garbage collected without close(); ");
        if (a.site() != null) {
            sb.append("allocated at:");
            for (StackTraceElement e : a.site().getStackTrace()) {
                sb.append("\n    at ").append(e);
            }
        } else {
            sb.append("run with -Dconvkit.leaks.sites=true to see where it was allocated");
        }
        String text = sb.toString();
        COUNT.incrementAndGet();
        synchronized (REPORTS) {
            if (REPORTS.size() == KEPT) {
                REPORTS.removeFirst();
            }
            REPORTS.addLast(text);
        }
        LOG.log(System.Logger.Level.WARNING, text);
    }
}
