package org.convkit.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where reliability tests leave the figures the README quotes: one small text file per test
 * class under {@code target/reliability/} (Surefire runs in the module's folder), also printed,
 * so that a figure always comes from the command that produced it.
 */
public final class Figures {
    private Figures() {
    }

    /** The folder of the figure files. */
    public static Path dir() {
        return Path.of("target", "reliability");
    }

    /** Writes {@code text} as the figures of {@code name} (replacing earlier ones) and prints it. */
    public static void record(String name, String text) {
        System.out.println("[reliability] " + name + ": " + text.replace("\n", "\n[reliability]   "));
        try {
            Files.createDirectories(dir());
            Files.writeString(dir().resolve(name + ".txt"), text + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
