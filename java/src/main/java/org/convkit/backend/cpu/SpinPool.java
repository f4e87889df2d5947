package org.convkit.backend.cpu;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

import org.convkit.ConvkitException;

/**
 * The CPU device's helper threads: each waits for its next task spinning for a short while
 * ({@value #DEFAULT_SPIN_MICROS} us by default, {@code -Dconvkit.cpu.spinMicros}) before it parks,
 * and the caller spins the same way for the helpers to finish. A kernel is a few hundred
 * microseconds; waking a parked thread on this kind of virtual machine costs tens to hundreds
 * of them, which is what an executor's queue paid on every call (ONNX Runtime's pool spins too).
 *
 * <p>One {@link #run} at a time uses the helpers; a second caller meanwhile (another thread, or a
 * task that itself runs in parallel) does all of its work on its own thread, which is correct
 * and only slower.
 */
final class SpinPool {
    static final long DEFAULT_SPIN_MICROS = 200;
    private static final long SPIN_NANOS = Long.getLong("convkit.cpu.spinMicros", DEFAULT_SPIN_MICROS) * 1000;

    private final Helper[] helpers;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile boolean closed;

    /** {@code count} helper threads named {@code prefix + i}, daemons. */
    SpinPool(int count, String prefix) {
        helpers = new Helper[count];
        for (int i = 0; i < count; i++) {
            helpers[i] = new Helper();
            Thread t = new Thread(helpers[i]::loop, prefix + (i + 1));
            t.setDaemon(true);
            helpers[i].thread = t;
            t.start();
        }
    }

    /**
     * Runs {@code body} for every index in [0, count) on the caller and the helpers, indices taken
     * dynamically; returns when all are done and rethrows the first failure.
     */
    void run(int count, IntConsumer body) {
        if (closed || !busy.compareAndSet(false, true)) {
            for (int i = 0; i < count; i++) {
                body.accept(i);
            }
            return;
        }
        try {
            AtomicInteger next = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            int used = Math.min(helpers.length, count - 1);
            AtomicInteger pending = new AtomicInteger(used);
            Thread caller = Thread.currentThread();
            Runnable work = () -> {
                try {
                    for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                        body.accept(i);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    next.set(count);
                }
            };
            Runnable[] tasks = new Runnable[used];
            for (int t = 0; t < used; t++) {
                tasks[t] = () -> {
                    try {
                        work.run();
                    } finally {
                        if (pending.decrementAndGet() == 0) {
                            LockSupport.unpark(caller);
                        }
                    }
                };
                helpers[t].submit(tasks[t]);
            }
            work.run();
            // Every index is taken. A helper that has not picked its task up yet (the OS has not
            // run it: another process holds the core) would only find nothing left to do, so
            // the task is withdrawn rather than waited for; only helpers inside an index count.
            for (int t = 0; t < used; t++) {
                if (helpers[t].withdraw(tasks[t])) {
                    pending.decrementAndGet();
                }
            }
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (pending.get() > 0) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            Throwable e = failure.get();
            if (e instanceof RuntimeException re) {
                throw re;
            }
            if (e instanceof Error err) {
                throw err;
            }
            if (e != null) {
                throw new ConvkitException("cpu: worker failed", e);
            }
        } finally {
            busy.set(false);
        }
    }

    /** Stops the helpers (they finish the task at hand first). */
    void close() {
        closed = true;
        for (Helper h : helpers) {
            LockSupport.unpark(h.thread);
        }
    }

    private final class Helper {
        private Thread thread;
        /** The task submitted and not yet taken: the helper takes it, or the caller withdraws it. */
        private final AtomicReference<Runnable> task = new AtomicReference<>();
        private volatile boolean parked;

        void submit(Runnable r) {
            task.set(r);
            // Dekker pairing with loop(): the helper sets parked, then reads task; here task is
            // written, then parked read: one of the two sees the other's write.
            if (parked) {
                LockSupport.unpark(thread);
            }
        }

        /** Takes {@code r} back if the helper has not started it; true if it will not run. */
        boolean withdraw(Runnable r) {
            return task.compareAndSet(r, null);
        }

        void loop() {
            long spinUntil = 0;
            while (!closed) {
                Runnable r = task.get();
                if (r != null && task.compareAndSet(r, null)) {
                    r.run();
                    spinUntil = System.nanoTime() + SPIN_NANOS;
                } else if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    parked = true;
                    if (task.get() == null && !closed) {
                        LockSupport.park(this);
                    }
                    parked = false;
                }
            }
        }
    }
}
