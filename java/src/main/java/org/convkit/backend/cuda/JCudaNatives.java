package org.convkit.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;

import jcuda.JCudaVersion;
import jcuda.LibUtils;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import org.convkit.backend.BackendUnavailableException;
import org.convkit.backend.NativeLibraries;

/**
 * Loads JCuda's driver binding and starts the CUDA driver (cuInit), turning each way this can
 * fail into one reason a user can act on. Done once per process: a class whose initialisation
 * failed cannot be initialised again, so later calls get the first outcome.
 *
 * <p><b>Why convkit unpacks JCuda's JNI library itself.</b> The library ships as the resource
 * {@code lib/libJCudaDriver-<version>-<os>-<arch>.so} of the jcuda-natives jar. JCuda's loader
 * ({@code jcuda.LibUtils}) first tries {@code java.library.path}, then reads that resource with
 * {@code LibUtils.class.getResourceAsStream}, unpacks it to {@code java.io.tmpdir} under its own
 * name and {@code System.load}s it, reusing a file already there. On the module path (the
 * {@code ./convkit} launcher, Surefire) {@code Class.getResourceAsStream} searches only the
 * class's own module, {@code jcuda}, while the resource lives in the automatic module of the
 * natives jar: JCuda then fails with "No resource found" unless an earlier class-path run happened
 * to leave the unpacked file behind. So before touching JCuda's driver class, convkit writes the
 * resource to exactly the file JCuda's loader looks for, reading it through the class loader,
 * which sees the packages of automatic modules (all open) and the class path alike. JCuda then
 * loads it as usual, and the only thing left to fail is the library's own dependency,
 * {@code libcuda.so.1}: the NVIDIA driver. An existing file with other contents (a truncated
 * earlier unpacking, another version) is replaced atomically. The folder is convkit's private one
 * ({@link NativeLibraries}), with {@code java.io.tmpdir} pointed at it while JCuda loads, never the
 * shared temporary folder, where another user could have left a library of the same name.
 */
final class JCudaNatives {
    /** Prefix of the reason when the driver library is missing, for callers and tests. */
    static final String NO_DRIVER = "no CUDA driver";

    private static boolean attempted;
    /** Why CUDA cannot start here, or null when cuInit succeeded. */
    private static String failure;

    private JCudaNatives() {
    }

    /**
     * Loads JCuda's library and calls cuInit, once per process.
     *
     * @throws BackendUnavailableException with the reason when CUDA cannot start here
     */
    static synchronized void start() {
        if (!attempted) {
            attempted = true;
            failure = initialise();
        }
        if (failure != null) {
            throw new BackendUnavailableException(failure);
        }
    }

    private static String initialise() {
        String file;
        try {
            file = libraryFileName();
        } catch (LinkageError e) {
            return "JCuda is not on the class or module path (org.jcuda:jcuda): " + e;
        }
        unpack(file, unpackedLibrary(file));
        int code;
        try {
            code = NativeLibraries.whileLoading(() -> {
                JCudaDriver.setExceptionsEnabled(false);
                return JCudaDriver.cuInit(0);
            });
        } catch (LinkageError e) {
            return reasonFor(e, file);
        }
        if (code == CUresult.CUDA_SUCCESS) {
            return null;
        }
        String call = "cuInit returned " + Cuda.errorName(code) + " (" + code + ")";
        if (code == CUresult.CUDA_ERROR_NO_DEVICE) {
            return "no CUDA device: the NVIDIA driver is installed but sees no GPU (" + call + ")";
        }
        return "the CUDA driver failed to start: " + call;
    }

    /** The file name JCuda's loader gives its driver library here, e.g. {@code libJCudaDriver-12.6.0-linux-x86_64.so}. */
    static String libraryFileName() {
        // The same calls JCudaDriver's static initialiser makes to name its library.
        return LibUtils.createLibraryFileName(LibUtils.createPlatformLibraryName("JCudaDriver-" + JCudaVersion.get()));
    }

    /**
     * Where JCuda's loader looks for the unpacked library (and unpacks it itself when it can):
     * {@code java.io.tmpdir}, which {@link NativeLibraries#whileLoading} points at convkit's
     * private folder while JCuda loads.
     */
    static Path unpackedLibrary(String file) {
        return NativeLibraries.privateDir().resolve(file);
    }

    /**
     * Writes the library resource {@code lib/<file>} to {@code target} unless an identical file is
     * there. Best effort: when the resource is absent (JCuda may still find the library on
     * {@code java.library.path}) or the folder is not writable, JCuda's own attempt decides, and
     * its error becomes the reason.
     */
    static void unpack(String file, Path target) {
        String resource = "lib/" + file;
        ClassLoader loader = LibUtils.class.getClassLoader();
        byte[] bytes;
        try (InputStream in = loader == null ? ClassLoader.getSystemResourceAsStream(resource)
                : loader.getResourceAsStream(resource)) {
            if (in == null) {
                return;
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            return;
        }
        try {
            if (Files.isRegularFile(target) && Files.size(target) == bytes.length
                    && Arrays.equals(Files.readAllBytes(target), bytes)) {
                return;
            }
            Path part = Files.createTempFile(target.getParent(), file, ".part");
            try {
                Files.write(part, bytes);
                if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
                    // The folder is private (NativeLibraries); the file is too.
                    Files.setPosixFilePermissions(part, PosixFilePermissions.fromString("rwx------"));
                }
                Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(part);
            }
        } catch (IOException | UnsupportedOperationException e) {
            // Left to JCuda's loader, which reports what it could not do.
        }
    }

    /** A one-line reason from a failed load: JCuda's message nests both attempts' stack traces. */
    static String reasonFor(LinkageError e, String file) {
        String text = messages(e);
        for (String line : text.split("\n")) {
            int at = line.indexOf("libcuda.so");
            if (at >= 0) {
                String rest = line.substring(at);
                int colon = rest.indexOf(':');
                String lib = colon < 0 ? rest.trim() : rest.substring(0, colon).trim();
                String detail = colon < 0 ? "" : " (" + rest.substring(colon + 1).trim() + ")";
                return NO_DRIVER + ": " + lib + " could not be loaded" + detail
                        + "; install the NVIDIA driver to use CUDA devices";
            }
        }
        if (text.contains("No resource found")) {
            return "JCuda's native library " + file + " is neither on java.library.path nor in a jcuda-natives jar for "
                    + "this platform (add org.jcuda:jcuda-natives:" + JCudaVersion.get() + " with the classifier of this "
                    + "OS and architecture)";
        }
        return "JCuda's native library " + file + " could not be loaded: " + firstLine(text);
    }

    /** The messages of a throwable and its causes, which may each span several lines. */
    private static String messages(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c).append('\n');
        }
        return sb.toString();
    }

    private static String firstLine(String text) {
        int nl = text.indexOf('\n');
        return (nl < 0 ? text : text.substring(0, nl)).trim();
    }
}
