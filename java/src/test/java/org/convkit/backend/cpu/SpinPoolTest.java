package org.convkit.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The CPU device's helper pool: every index exactly once, failures rethrown, no lost wake-up. */
class SpinPoolTest {
    /** The timeout only stops a lost wake-up from hanging the build; it measures nothing. */
    @Test
    @Timeout(300)
    void everyIndexRunsExactlyOnceAlsoWhenTheCoresAreBusy() {
        SpinPool pool = new SpinPool(1, "spin-pool-test-");
        // Threads that keep both cores busy, so that the helper is often not running when a task
        // is submitted: the caller then does the work alone and withdraws the helper's task.
        Thread[] hogs = new Thread[2];
        AtomicLong sink = new AtomicLong();
        for (int i = 0; i < hogs.length; i++) {
            hogs[i] = new Thread(() -> {
                long x = 0;
                while (!Thread.currentThread().isInterrupted()) {
                    x += System.nanoTime() & 1;
                }
                sink.addAndGet(x);
            });
            hogs[i].setDaemon(true);
        }
        try {
            for (int phase = 0; phase < 2; phase++) {
                if (phase == 1) {
                    for (Thread h : hogs) {
                        h.start();
                    }
                }
                for (int run = 0; run < 20_000; run++) {
                    int count = 1 + run % 7;
                    AtomicIntegerArray seen = new AtomicIntegerArray(count);
                    pool.run(count, seen::incrementAndGet);
                    for (int i = 0; i < count; i++) {
                        assertEquals(1, seen.get(i), "run " + run + " (" + count + " indices), index " + i);
                    }
                }
            }
        } finally {
            for (Thread h : hogs) {
                h.interrupt();
            }
            pool.close();
        }
    }

    @Test
    void aFailureIsRethrownAndThePoolStaysUsable() {
        SpinPool pool = new SpinPool(1, "spin-pool-test-");
        try {
            IllegalStateException boom = new IllegalStateException("index 3 failed");
            for (int run = 0; run < 100; run++) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run(8, i -> {
                    if (i == 3) {
                        throw boom;
                    }
                }));
                assertSame(boom, e);
                AtomicIntegerArray seen = new AtomicIntegerArray(8);
                pool.run(8, seen::incrementAndGet);
                for (int i = 0; i < 8; i++) {
                    assertEquals(1, seen.get(i));
                }
            }
        } finally {
            pool.close();
        }
    }
}
