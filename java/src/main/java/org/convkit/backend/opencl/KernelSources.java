package org.convkit.backend.opencl;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads kernel sources packaged from the repository's {@code kernels/} folder. A line
 * {@code #include "common/x.h"} is replaced by that file (once per program, paths relative to
 * {@code kernels/}), with {@code #line} markers so that build logs name the right file and line.
 */
final class KernelSources {
    private static final String ROOT = "/org/convkit/kernels/";
    private static final Pattern INCLUDE = Pattern.compile("^\\s*#\\s*include\\s+\"([^\"]+)\"\\s*$");

    private KernelSources() {
    }

    /** The source at {@code path} (e.g. {@code conv2d/conv2d.cl}) with its includes inlined. */
    static String load(String path) {
        StringBuilder out = new StringBuilder();
        inline(path, out, new HashSet<>());
        return out.toString();
    }

    private static void inline(String path, StringBuilder out, Set<String> seen) {
        if (!seen.add(path)) {
            return;
        }
        String text = read(path);
        String[] lines = text.split("\n", -1);
        out.append("#line 1 \"").append(path).append("\"\n");
        for (int i = 0; i < lines.length; i++) {
            Matcher m = INCLUDE.matcher(lines[i]);
            if (m.matches()) {
                inline(m.group(1), out, seen);
                out.append("#line ").append(i + 2).append(" \"").append(path).append("\"\n");
            } else {
                out.append(lines[i]).append('\n');
            }
        }
    }

    private static String read(String path) {
        if (path.contains("..")) {
            throw new IllegalArgumentException("kernel source path must stay under kernels/: " + path);
        }
        try (InputStream in = KernelSources.class.getResourceAsStream(ROOT + path)) {
            if (in == null) {
                throw new IllegalStateException("kernel source kernels/" + path + " is not packaged with convkit");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading kernel source kernels/" + path, e);
        }
    }
}
