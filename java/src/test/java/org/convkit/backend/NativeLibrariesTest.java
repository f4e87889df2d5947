package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JOCL's and JCuda's JNI libraries come from a private folder of the current user, never from the shared /tmp. */
class NativeLibrariesTest {
    @Test
    void thePrivateFolderIsTheUsersOwnAndClosedToOthers() throws IOException {
        Path dir = NativeLibraries.privateDir();
        assertNull(NativeLibraries.check(dir, false), dir.toString());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS)));
        assertFalse(dir.equals(Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath()),
                "not the shared temp folder: " + dir);
    }

    @Test
    void aFolderOthersCanWriteOrALinkIsRefused(@TempDir Path tmp) throws IOException {
        Path open = Files.createDirectory(tmp.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertTrue(NativeLibraries.check(open, false).startsWith("may be written by others"), NativeLibraries.check(open, false));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), Files.createDirectory(tmp.resolve("real")));
        assertTrue(NativeLibraries.check(link, false).contains("link"), NativeLibraries.check(link, false));
        Path fresh = tmp.resolve("a").resolve("b");
        assertNull(NativeLibraries.check(fresh, true));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh)));
    }

    /** Where the JVM mapped JOCL's library from, read from /proc/self/maps once OpenCL has started. */
    @Test
    void joclIsLoadedFromThePrivateFolder() throws IOException {
        Backends.system();
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps) || !Backends.system().has("opencl")) {
            return;
        }
        List<String> jocl = Files.readAllLines(maps).stream().filter(l -> l.contains("libJOCL")).map(l -> l.substring(
                l.indexOf('/'))).distinct().toList();
        assertEquals(1, jocl.size(), jocl.toString());
        assertTrue(Path.of(jocl.get(0)).startsWith(NativeLibraries.privateDir()), jocl + " in " + NativeLibraries.privateDir());
    }
}
