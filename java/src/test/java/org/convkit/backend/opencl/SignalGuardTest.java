package org.convkit.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.convkit.backend.Backends;
import org.convkit.backend.DeviceInfo;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An LLVM-based driver (PoCL) replaces the JVM's SIGSEGV handler while it compiles; a JVM fault
 * in that state can kill the process (see {@link SignalGuard}). Child JVMs without libjsig build
 * a fresh program: with the guard, the JVM's handler is back; without it, LLVM's stays (which
 * proves the child really exercises the compiler).
 */
class SignalGuardTest {
    @TempDir
    static Path cache;

    @BeforeAll
    static void openCl() {
        TestDevices.checkOpenCl();
    }

    @Test
    void theJvmKeepsItsHandlersAfterTheDriverCompiles() throws Exception {
        String with = probe(true);
        assertTrue(with.contains("guard: on"), with);
        assertTrue(with.contains("SIGSEGV handler in: libjvm.so") && with.contains("SIGBUS handler in: libjvm.so"), with);

        DeviceInfo info = Backends.system().devices().stream().filter(d -> d.name().equals("opencl:0")).findFirst().orElseThrow();
        assumeTrue(info.platform().contains("Portable Computing Language"),
                "the unguarded half needs an LLVM-based driver (PoCL); opencl:0 is " + info.platform());
        String without = probe(false);
        assertTrue(without.contains("SIGSEGV handler in: libLLVM"), "without the guard LLVM's handler stays:\n" + without);
        assertTrue(with.contains("restored: ") && !with.contains("restored: 0"), with);
    }

    @Test
    void testJvmsStartedByTheLauncherPreloadLibjsig() {
        assumeTrue(System.getenv("CONVKIT_JSIG") != null, "not started through ./convkit (CONVKIT_JSIG unset)");
        SignalGuard.capture();
        assertTrue(String.valueOf(SignalGuard.off()).contains("libjsig is preloaded"),
                "the jsig profile should preload " + System.getenv("CONVKIT_JSIG") + "; guard: " + SignalGuard.off());
    }

    private static String probe(boolean guard) throws Exception {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cp = new ArrayList<>();
        for (Class<?> c : new Class<?>[] {SignalGuard.class, SignalGuardProbe.class, org.jocl.CL.class}) {
            cp.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        }
        List<String> cmd = List.of(java, "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
                "-Dconvkit.signals.guard=" + guard, "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
                "-cp", String.join(File.pathSeparator, cp), SignalGuardProbe.class.getName());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("LD_PRELOAD"); // what an application that does not preload libjsig looks like
        Path dir = Files.createDirectories(cache.resolve(guard ? "guarded" : "unguarded"));
        pb.environment().put("POCL_CACHE_DIR", dir.toString()); // an empty cache: the driver compiles
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "probe did not finish:\n" + out);
        assertEquals(0, p.exitValue(), "probe failed:\n" + String.join(" ", cmd) + "\n" + out);
        return out;
    }
}
