package org.convkit.bench.peers;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A driver program of the peers suite, packaged in benchmarks.jar as source and compiled here the
 * first time it is needed, into {@code java.io.tmpdir/convkit-<engine>-<hash of the source>/},
 * where later runs find it: {@link #ONEDNN} ({@code native-bench/cpp/onednn_bench.cpp}, g++
 * against the system's oneDNN) and {@link #CLBLAST} ({@code native-bench/c/clblast_bench.c}, gcc
 * against the OpenCL ICD loader and CLBlast).
 */
final class NativeDriver {
    /** oneDNN's driver; Debian/Ubuntu: {@code apt-get install libdnnl-dev}. */
    static final NativeDriver ONEDNN = new NativeDriver(Peer.ONEDNN, "/org/convkit/bench/cpp/onednn_bench.cpp",
            List.of("oneapi/dnnl/dnnl.hpp"), "libdnnl-dev", List.of("g++", "-O2", "-std=c++17"), List.of("-ldnnl"));
    /** im2col + CLBlast's driver; Debian/Ubuntu: {@code apt-get install libclblast-dev ocl-icd-opencl-dev}. */
    static final NativeDriver CLBLAST = new NativeDriver(Peer.CLBLAST, "/org/convkit/bench/c/clblast_bench.c",
            List.of("clblast_c.h", "CL/cl.h"), "libclblast-dev ocl-icd-opencl-dev", List.of("gcc", "-O2"),
            List.of("-lOpenCL", "-lclblast"));

    /** Where packaged development headers are looked for before trying to compile. */
    private static final List<Path> INCLUDE_DIRS = List.of(Path.of("/usr/include"), Path.of("/usr/local/include"));

    private final String engine;
    private final String source;
    private final List<String> headers;
    private final String packages;
    private final List<String> compiler;
    private final List<String> libraries;

    private Path binary;
    private String failure;

    private NativeDriver(String engine, String source, List<String> headers, String packages, List<String> compiler,
            List<String> libraries) {
        this.engine = engine;
        this.source = source;
        this.headers = headers;
        this.packages = packages;
        this.compiler = compiler;
        this.libraries = libraries;
    }

    /** Why the driver cannot be built here, or null once it is built. */
    synchronized String unavailable() {
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
    synchronized Path binary() {
        String why = unavailable();
        if (why != null) {
            throw new Peer.Unavailable(why);
        }
        return binary;
    }

    /** A text file packaged beside the driver's source (tuning data), or null when there is none. */
    String resource(String name) {
        String path = source.substring(0, source.lastIndexOf('/') + 1) + name;
        try (InputStream in = NativeDriver.class.getResourceAsStream(path)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path build() {
        for (String h : headers) {
            if (INCLUDE_DIRS.stream().noneMatch(d -> Files.isRegularFile(d.resolve(h)))) {
                throw new IllegalStateException(engine + ": no " + h + " in " + INCLUDE_DIRS + "; install the headers, e.g. "
                        + "apt-get install " + packages);
            }
        }
        byte[] src;
        try (InputStream in = NativeDriver.class.getResourceAsStream(source)) {
            if (in == null) {
                throw new IllegalStateException(engine + ": " + source + " is not packaged with the benchmarks");
            }
            src = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String file = source.substring(source.lastIndexOf('/') + 1);
        String name = file.substring(0, file.lastIndexOf('.'));
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "convkit-" + engine + "-" + hash(src));
        Path bin = dir.resolve(name);
        if (Files.isExecutable(bin)) {
            return bin;
        }
        try {
            Files.createDirectories(dir);
            Path code = dir.resolve(file);
            Files.write(code, src);
            // Built under another name first: a half-written binary is never found by a later run.
            Path tmp = dir.resolve(name + ".tmp");
            List<String> cmd = new ArrayList<>(compiler);
            cmd.addAll(List.of("-o", tmp.toString(), code.toString()));
            cmd.addAll(libraries);
            Process p;
            try {
                p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            } catch (IOException e) {
                throw new IllegalStateException(engine + ": cannot run " + compiler.get(0) + " to build the driver: "
                        + e.getMessage(), e);
            }
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(engine + ": " + compiler.get(0) + " took more than 300 s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(engine + ": building the driver failed: " + String.join(" ", cmd) + "\n" + log);
            }
            Files.move(tmp, bin, StandardCopyOption.ATOMIC_MOVE);
            return bin;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(engine + ": interrupted while building the driver", e);
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
