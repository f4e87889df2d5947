package org.convkit.backend;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Arrays;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Where convkit lets JOCL and JCuda unpack their JNI libraries: a private folder of the current
 * user instead of the shared {@code java.io.tmpdir}.
 *
 * <p><b>Why.</b> Both bindings write their library from their jar to {@code java.io.tmpdir} under
 * a fixed name and load the file already there if there is one, unchecked. On a machine with
 * other users, {@code /tmp/libJOCL_2_0_5-linux-x86_64.so} can be created by anyone before the
 * first convkit run; the JVM would then load that user's code. So convkit picks a folder only the
 * current user can write, unpacks the library there itself (replacing, atomically, a file whose
 * bytes differ from the jar's), and points {@code java.io.tmpdir} at it while the binding loads,
 * which is where both loaders look.
 *
 * <p><b>The folder</b>, first that qualifies: {@code -Dconvkit.native.dir}; else
 * {@code $XDG_CACHE_HOME/convkit/native} or {@code ~/.cache/convkit/native}. It is created with
 * mode 0700 and used only if it is a real directory (not a link) owned by the current user that
 * neither group nor others may write; otherwise a fresh folder from
 * {@link Files#createTempDirectory} (random name, mode 0700) is used for this process.
 */
public final class NativeLibraries {
    private static final System.Logger LOG = System.getLogger("org.convkit.backend");
    private static Path dir;

    private NativeLibraries() {
    }

    /** The private folder (chosen and checked once per process). */
    public static synchronized Path privateDir() {
        if (dir == null) {
            dir = choose();
        }
        return dir;
    }

    private static Path choose() {
        String configured = System.getProperty("convkit.native.dir");
        Path preferred;
        if (configured != null && !configured.isBlank()) {
            preferred = Path.of(configured);
        } else {
            String xdg = System.getenv("XDG_CACHE_HOME");
            Path cache = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
            preferred = cache.resolve("convkit").resolve("native");
        }
        String why = check(preferred, true);
        if (why == null) {
            return preferred.toAbsolutePath();
        }
        try {
            Path fresh = posix()
                    ? Files.createTempDirectory("convkit-native-", PosixFilePermissions.asFileAttribute(OWNER_ONLY))
                    : Files.createTempDirectory("convkit-native-");
            LOG.log(System.Logger.Level.INFO, "convkit: native libraries go to {0} ({1} {2})", fresh, preferred, why);
            return fresh;
        } catch (IOException e) {
            throw new BackendUnavailableException("no private folder for native libraries: " + preferred + " " + why
                    + ", and a temporary one could not be created: " + e);
        }
    }

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private static boolean posix() {
        return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    }

    /**
     * Why {@code folder} is not a safe private folder (null when it is); creates it, mode 0700,
     * when {@code create}.
     */
    static String check(Path folder, boolean create) {
        try {
            if (create && !Files.exists(folder, LinkOption.NOFOLLOW_LINKS)) {
                if (posix()) {
                    Files.createDirectories(folder, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
                } else {
                    Files.createDirectories(folder);
                }
            }
            if (!Files.isDirectory(folder, LinkOption.NOFOLLOW_LINKS)) {
                return "is not a directory (or is a link)";
            }
            if (!posix()) {
                return null;
            }
            UserPrincipal me = FileSystems.getDefault().getUserPrincipalLookupService()
                    .lookupPrincipalByName(System.getProperty("user.name"));
            UserPrincipal owner = Files.getOwner(folder, LinkOption.NOFOLLOW_LINKS);
            if (!owner.equals(me)) {
                return "is owned by " + owner.getName() + ", not " + me.getName();
            }
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(folder, LinkOption.NOFOLLOW_LINKS);
            if (p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE)) {
                return "may be written by others (" + PosixFilePermissions.toString(p) + ")";
            }
            return null;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return "cannot be used: " + e;
        }
    }

    /**
     * Writes the resource {@code resource} (seen through {@code loader}) to {@code file} in the
     * private folder unless a file with the same bytes is there; returns the file, or null when
     * the resource is absent (the binding then reports what it could not find).
     */
    public static Path unpack(ClassLoader loader, String resource, String file) {
        Path target = privateDir().resolve(file);
        byte[] bytes;
        try (InputStream in = loader == null ? ClassLoader.getSystemResourceAsStream(resource)
                : loader.getResourceAsStream(resource)) {
            if (in == null) {
                return null;
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            return null;
        }
        try {
            if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS) && Files.size(target) == bytes.length
                    && Arrays.equals(Files.readAllBytes(target), bytes)) {
                return target;
            }
            Path part = Files.createTempFile(target.getParent(), file, ".part");
            try {
                Files.write(part, bytes);
                if (posix()) {
                    Files.setPosixFilePermissions(part, PosixFilePermissions.fromString("rwx------"));
                }
                Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(part);
            }
            return target;
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /**
     * Runs {@code load} (the first use of a binding, which loads its library) with
     * {@code java.io.tmpdir} set to the private folder, where the binding's loader then looks. The
     * JDK's own temporary files are unaffected (it reads the property once, at its first use).
     */
    public static synchronized <T> T whileLoading(Supplier<T> load) {
        String saved = System.getProperty("java.io.tmpdir");
        System.setProperty("java.io.tmpdir", privateDir().toString());
        try {
            return load.get();
        } finally {
            System.setProperty("java.io.tmpdir", saved);
        }
    }
}
