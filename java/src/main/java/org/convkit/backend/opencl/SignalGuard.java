package org.convkit.backend.opencl;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Keeps the JVM's signal handlers in place while an OpenCL driver compiles kernels in-process.
 *
 * <p>PoCL (and other LLVM-based drivers) run clang and LLVM inside the JVM. LLVM installs its own
 * handlers for SIGSEGV, SIGBUS, SIGILL, SIGUSR2, SIGINT, SIGTERM and others the first time it
 * registers a file to delete on a crash, with {@code SA_RESETHAND}. The JVM raises SIGSEGV on
 * purpose (implicit null checks, safepoint polls): LLVM's handler then puts the JVM's back and
 * the fault is retried, but the kernel has already reset the signal to its default action, so a
 * second thread faulting in that instant kills the process with a bare "Segmentation fault" and
 * no error report. Seen in CI: a test JVM died that way after PoCL had compiled kernels.
 *
 * <p>The cure the JDK documents is to preload {@code libjsig.so}, which makes the JVM's handlers
 * win and chains the library's behind them; {@code ./convkit} and the build's tests do that. For
 * an application that does not, this guard saves the JVM's handlers before the driver loads and,
 * after each program build and (until it has had to act once) after each wait for the queue, puts
 * back any handler that now lives in an LLVM or clang library. LLVM installs its handlers once
 * and never again while it believes they are installed, so one restore is enough in practice; the
 * builds are checked every time all the same. The guard does nothing when {@code libjsig} is
 * loaded, off Linux, or with {@code -Dconvkit.signals.guard=false}.
 */
final class SignalGuard {
    /** glibc's struct sigaction is 152 bytes on x86-64 and AArch64; room to spare. */
    private static final long SIGACTION_BYTES = 256;
    private static final int SIGKILL = 9;
    private static final int SIGSEGV = 11;
    private static final int SIGSTOP = 19;
    private static final int LAST_SIGNAL = 31;

    private static final System.Logger LOG = System.getLogger("org.convkit.backend.opencl");
    private static final MethodHandle SIGACTION;
    private static final MethodHandle DLADDR;
    /** The JVM's handlers, by signal number; null where not captured. */
    private static final MemorySegment[] SAVED = new MemorySegment[LAST_SIGNAL + 1];
    /** Why the guard is off, or null when it is on. */
    private static final String OFF;
    private static final AtomicInteger RESTORED = new AtomicInteger();
    private static volatile boolean acted;

    static {
        MethodHandle sigaction = null;
        MethodHandle dladdr = null;
        String off = "false".equalsIgnoreCase(System.getProperty("convkit.signals.guard"))
                ? "disabled by -Dconvkit.signals.guard=false" : null;
        if (off == null && !System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            off = "not Linux";
        }
        if (off == null && jsigLoaded()) {
            off = "libjsig is preloaded: the JVM chains the driver's handlers itself";
        }
        try {
            Linker linker = Linker.nativeLinker();
            sigaction = linker.downcallHandle(linker.defaultLookup().find("sigaction").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            dladdr = linker.downcallHandle(linker.defaultLookup().find("dladdr").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            for (int sig = 1; sig <= LAST_SIGNAL && off == null; sig++) {
                if (sig == SIGKILL || sig == SIGSTOP) {
                    continue;
                }
                MemorySegment saved = Arena.global().allocate(SIGACTION_BYTES, 16);
                if ((int) sigaction.invokeExact(sig, MemorySegment.NULL, saved) == 0) {
                    SAVED[sig] = saved;
                }
            }
        } catch (Throwable e) {
            off = off != null ? off : "sigaction or dladdr not reachable: " + e;
            sigaction = null;
            dladdr = null;
        }
        SIGACTION = sigaction;
        DLADDR = dladdr;
        OFF = off;
    }

    private SignalGuard() {
    }

    /** Saves the JVM's handlers (class initialization); call before the driver is loaded. */
    static void capture() {
        // Initialization does the work.
    }

    /** Why the guard does nothing, or null when it is active. */
    static String off() {
        return OFF;
    }

    /** How many handlers the guard has put back so far. */
    static int restored() {
        return RESTORED.get();
    }

    /** After a program build: puts back every JVM handler an LLVM or clang library replaced. */
    static void afterBuild() {
        if (OFF == null) {
            restore();
        }
    }

    /**
     * After waiting for the queue (kernels may be compiled for a work-group size when they run):
     * one {@code sigaction} read until the guard has acted once, nothing after.
     */
    static void afterWait() {
        if (OFF == null && !acted && handler(SIGSEGV) != SAVED[SIGSEGV].get(ValueLayout.JAVA_LONG, 0)) {
            restore();
        }
    }

    /** The shared library that holds the current handler of {@code sig} (tests, diagnostics). */
    static String handlerLibrary(int sig) {
        if (SIGACTION == null) {
            return "unknown (" + OFF + ")";
        }
        long h = handler(sig);
        return h == 0 ? "SIG_DFL" : h == 1 ? "SIG_IGN" : library(h);
    }

    private static synchronized void restore() {
        List<String> moved = new ArrayList<>();
        for (int sig = 1; sig <= LAST_SIGNAL; sig++) {
            MemorySegment saved = SAVED[sig];
            if (saved == null) {
                continue;
            }
            long now = handler(sig);
            if (now == saved.get(ValueLayout.JAVA_LONG, 0) || now == 0 || now == 1) {
                continue;
            }
            String lib = library(now);
            String lower = lib.toLowerCase(Locale.ROOT);
            if (!lower.contains("llvm") && !lower.contains("clang")) {
                continue; // another library's handler (the driver's own SIGFPE handler chains to ours): left alone
            }
            try {
                if ((int) SIGACTION.invokeExact(sig, saved, MemorySegment.NULL) == 0) {
                    moved.add(sig + " (" + lib + ")");
                    RESTORED.incrementAndGet();
                }
            } catch (Throwable e) {
                throw new IllegalStateException("opencl: sigaction(" + sig + ") to restore the JVM's handler", e);
            }
        }
        if (!moved.isEmpty()) {
            acted = true;
            LOG.log(System.Logger.Level.DEBUG, () -> "opencl: the driver's compiler replaced the JVM's handlers of signals "
                    + String.join(", ", moved) + "; put back (preload libjsig.so to chain them instead)");
        }
    }

    /** Per thread: where {@link #handler} reads a sigaction into (it runs after every queue wait). */
    private static final ThreadLocal<MemorySegment> READ = ThreadLocal.withInitial(
            () -> Arena.ofAuto().allocate(SIGACTION_BYTES, 16));

    private static long handler(int sig) {
        MemorySegment now = READ.get();
        try {
            int rc = (int) SIGACTION.invokeExact(sig, MemorySegment.NULL, now);
            return rc == 0 ? now.get(ValueLayout.JAVA_LONG, 0) : 0;
        } catch (Throwable e) {
            throw new IllegalStateException("opencl: sigaction(" + sig + ") read", e);
        }
    }

    private static String library(long address) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(4 * ValueLayout.ADDRESS.byteSize(), 8);
            if ((int) DLADDR.invokeExact(MemorySegment.ofAddress(address), info) == 0) {
                return "0x" + Long.toHexString(address);
            }
            MemorySegment name = info.get(ValueLayout.ADDRESS, 0);
            return name.equals(MemorySegment.NULL) ? "0x" + Long.toHexString(address)
                    : Path.of(name.reinterpret(4096).getString(0)).getFileName().toString();
        } catch (Throwable e) {
            return "0x" + Long.toHexString(address);
        }
    }

    private static boolean jsigLoaded() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                if (line.endsWith("/libjsig.so")) {
                    return true;
                }
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return false;
    }
}
