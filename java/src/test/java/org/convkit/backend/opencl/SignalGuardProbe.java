package org.convkit.backend.opencl;

/**
 * Run in a child JVM by {@link SignalGuardTest}, without libjsig: builds a program no cache can
 * hold on opencl:0, waits for the queue, and prints which library holds the SIGSEGV handler.
 */
public final class SignalGuardProbe {
    private SignalGuardProbe() {
    }

    public static void main(String[] args) {
        OpenClBackend backend = new OpenClBackend();
        backend.discover();
        try (ClDevice cl = (ClDevice) backend.open(0)) {
            String source = "__kernel void probe(__global float* x) { x[get_global_id(0)] *= " + System.nanoTime() + ".0f; }";
            org.jocl.CL.clReleaseProgram(cl.build("probe.cl", source, ""));
            cl.synchronize();
            System.out.println("guard: " + (SignalGuard.off() == null ? "on" : SignalGuard.off()));
            System.out.println("restored: " + SignalGuard.restored());
            System.out.println("SIGSEGV handler in: " + SignalGuard.handlerLibrary(11));
            System.out.println("SIGBUS handler in: " + SignalGuard.handlerLibrary(7));
        }
    }
}
