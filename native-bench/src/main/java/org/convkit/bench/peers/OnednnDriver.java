package org.convkit.bench.peers;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The oneDNN driver ({@code native-bench/cpp/onednn_bench.cpp}, packaged in benchmarks.jar),
 * compiled here with g++ against the system's oneDNN (Debian/Ubuntu: {@code apt-get install
 * libdnnl-dev}) the first time it is needed, into {@code java.io.tmpdir/convkit-onednn-<hash of
 * the source>/}, where later runs find it.
 */
final class OnednnDriver {
    private static final String SOURCE = "/org/convkit/bench/cpp/onednn_bench.cpp";
    /** Where the headers of the packaged libdnnl-dev are, checked before trying to compile. */
    private static final List<Path> HEADERS = List.of(Path.of("/usr/include/oneapi/dnnl/dnnl.hpp"),
            Path.of("/usr/local/include/oneapi/dnnl/dnnl.hpp"));

    private static Path binary;
    private static String failure;

    private OnednnDriver() {
    }

    /** Why the driver cannot be built here, or null once it is built. */
    static synchronized String unavailable() {
        if (binary == null && failure == null) {
            try {
                binary = build();
            } catch (IllegalStateException | UncheckedIOException e) {
                failure = e.getMessage();
            }
        }
        return failure;
    }

    /** The compiled driver. */
    static synchronized Path binary() {
        String why = unavailable();
        if (why != null) {
            throw new Peer.Unavailable(why);
        }
        return binary;
    }

    private static Path build() {
        if (HEADERS.stream().noneMatch(Files::isRegularFile)) {
            throw new IllegalStateException("onednn: no oneDNN headers (oneapi/dnnl/dnnl.hpp); install them, e.g. "
                    + "apt-get install libdnnl-dev");
        }
        byte[] src;
        try (InputStream in = OnednnDriver.class.getResourceAsStream(SOURCE)) {
            if (in == null) {
                throw new IllegalStateException("onednn: " + SOURCE + " is not packaged with the benchmarks");
            }
            src = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "convkit-onednn-" + hash(src));
        Path bin = dir.resolve("onednn_bench");
        if (Files.isExecutable(bin)) {
            return bin;
        }
        try {
            Files.createDirectories(dir);
            Path cpp = dir.resolve("onednn_bench.cpp");
            Files.write(cpp, src);
            // Built under another name first: a half-written binary is never found by a later run.
            Path tmp = dir.resolve("onednn_bench.tmp");
            List<String> cmd = List.of("g++", "-O2", "-std=c++17", "-o", tmp.toString(), cpp.toString(), "-ldnnl");
            Process p;
            try {
                p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            } catch (IOException e) {
                throw new IllegalStateException("onednn: cannot run g++ to build the driver: " + e.getMessage(), e);
            }
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("onednn: g++ took more than 300 s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("onednn: building the driver failed: " + String.join(" ", cmd) + "\n" + log);
            }
            Files.move(tmp, bin, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return bin;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("onednn: interrupted while building the driver", e);
        }
    }

    private static String hash(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b)).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
