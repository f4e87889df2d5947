package org.convkit.backend;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Fails one chosen native operation of a device on purpose, so that tests can prove that every
 * failure path releases what it took (the fault-injection switch of the device's allocation,
 * kernel-build and launch paths). Installed with {@link AbstractDevice#injectFaults}; counts
 * every event of the three kinds it watches and fails the {@code k}-th of one kind (1-based):
 *
 * <ul>
 *   <li>{@link #failAllocation(long)}: the {@code k}-th device allocation is refused as the driver
 *       would refuse it, after the allocator has reserved its bytes, as an
 *       {@link org.convkit.memory.OutOfDeviceMemoryException};
 *   <li>{@link #failKernelBuild(long)}: the {@code k}-th {@link Device#prepare} fails as a compiler
 *       rejection would, as a {@link KernelBuildException};
 *   <li>{@link #loseDeviceAt(long)}: at the {@code k}-th operation (upload, download or kernel
 *       launch) the device disappears: that operation and every later one throws
 *       {@link DeviceLostException}; closing buffers, kernels and the device still works.
 * </ul>
 *
 * <p>{@link #counting()} fails nothing and only counts, which tells a test how many points a run
 * has. Thread-safe.
 */
public final class FaultInjection {
    /** The kinds of event counted. */
    public enum Point {
        /** A device allocation (views are not allocations). */
        ALLOCATION,
        /** A kernel preparation: where a device compiles or loads the op's program. */
        KERNEL_BUILD,
        /** An upload, a download or a kernel launch. */
        OPERATION
    }

    private final Point point;
    private final long failAt;
    private final AtomicLong allocations = new AtomicLong();
    private final AtomicLong builds = new AtomicLong();
    private final AtomicLong operations = new AtomicLong();
    private volatile boolean fired;

    private FaultInjection(Point point, long failAt) {
        if (point != null && failAt < 1) {
            throw new IllegalArgumentException("fault injection: k must be at least 1, got " + failAt);
        }
        this.point = point;
        this.failAt = failAt;
    }

    /** Fails nothing; counts allocations, builds and operations. */
    public static FaultInjection counting() {
        return new FaultInjection(null, 0);
    }

    /** Refuses the {@code k}-th device allocation (1-based) as out of memory. */
    public static FaultInjection failAllocation(long k) {
        return new FaultInjection(Point.ALLOCATION, k);
    }

    /** Fails the {@code k}-th kernel preparation (1-based) as a build failure. */
    public static FaultInjection failKernelBuild(long k) {
        return new FaultInjection(Point.KERNEL_BUILD, k);
    }

    /** Makes the device disappear at its {@code k}-th operation (1-based). */
    public static FaultInjection loseDeviceAt(long k) {
        return new FaultInjection(Point.OPERATION, k);
    }

    /** Events of {@code p} counted so far (the failed one included). */
    public long count(Point p) {
        return counter(p).get();
    }

    /** Whether the fault has happened. */
    public boolean fired() {
        return fired;
    }

    /** Counts an event of {@code p}; true when this is the one to fail. */
    boolean hit(Point p) {
        long n = counter(p).incrementAndGet();
        if (p == point && n == failAt) {
            fired = true;
            return true;
        }
        return false;
    }

    private AtomicLong counter(Point p) {
        return switch (p) {
            case ALLOCATION -> allocations;
            case KERNEL_BUILD -> builds;
            case OPERATION -> operations;
        };
    }

    @Override
    public String toString() {
        return point == null ? "counting" : "fail " + point.name().toLowerCase(java.util.Locale.ROOT) + " #" + failAt;
    }
}
