package org.convkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The CUDA kernels' contract with their OpenCL twins: every {@code kernels/<op>/<op>.cl} has a
 * {@code <op>.cu} with the same entries, each with the same parameter types in the same order,
 * and the PTX that {@code kernels/build-ptx.sh} made at Maven's generate-resources (packaged
 * beside the .cl as {@code <op>.compute_80.ptx} and {@code <op>.compute_90.ptx}, and likewise each
 * module of a {@code ptx-variant:} line, e.g. {@code conv2d.tm32.compute_90.ptx}) declares exactly
 * those entries with those parameters. So a CUDA host written against a .cl's launch code
 * (arguments by index) cannot drift from the kernel it loads.
 *
 * <p>The source check always runs. The PTX checks skip, saying why, when the build made no PTX
 * (no nvcc); under {@code CI=true} with nvcc on the PATH a missing PTX build fails instead.
 */
class PtxBuildTest {
    /** The virtual architectures the build emits PTX for; ptxas checks each on the matching sm_. */
    private static final List<String> ARCHS = List.of("compute_80", "compute_90");
    private static final String RESOURCES = "/org/convkit/kernels/";
    private static final String UNAVAILABLE = "CUDA backend unavailable";
    private static final Pattern REPORT_ENTRY = Pattern.compile("Compiling entry function '(\\w+)' for '(\\w+)'");
    private static final Pattern REPORT_SPILLS = Pattern.compile("(\\d+) bytes spill stores, (\\d+) bytes spill loads");

    @Test
    void everyOpenClKernelHasACudaTwinWithTheSameEntriesAndParameters() {
        List<String> problems = new ArrayList<>();
        for (String op : ops()) {
            Path cu = kernelsDir().resolve(op).resolve(op + ".cu");
            if (!Files.isRegularFile(cu)) {
                problems.add(op + ": no CUDA twin kernels/" + op + "/" + op + ".cu");
                continue;
            }
            Map<String, List<KernelSignatures.Type>> cl = byName(KernelSignatures.openCl(read(clPath(op))));
            Map<String, List<KernelSignatures.Type>> cuda = byName(KernelSignatures.cuda(read(cu)));
            assertFalse(cl.isEmpty(), op + ".cl: no __kernel entry found");
            if (!cl.keySet().equals(cuda.keySet())) {
                problems.add(op + ": .cl entries " + cl.keySet() + " but .cu entries " + cuda.keySet());
                continue;
            }
            cl.forEach((entry, params) -> {
                if (!params.equals(cuda.get(entry))) {
                    problems.add(op + "/" + entry + ": .cl parameters " + params + " but .cu " + cuda.get(entry));
                }
            });
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void everyPtxDeclaresTheOpenClEntriesWithTheirParameters() {
        requirePtxBuilt();
        List<String> problems = new ArrayList<>();
        for (String op : ops()) {
            List<KernelSignatures.Entry> cl = KernelSignatures.openCl(read(clPath(op)));
            for (String name : ptxResources(op)) {
                Optional<String> ptx = resource(name);
                if (ptx.isEmpty()) {
                    problems.add(name + ": not among the packaged resources");
                    continue;
                }
                Map<String, KernelSignatures.PtxEntry> entries = KernelSignatures.ptx(ptx.get());
                for (KernelSignatures.Entry e : cl) {
                    KernelSignatures.PtxEntry p = entries.get(e.name());
                    if (p == null) {
                        problems.add(name + ": no '.visible .entry " + e.name() + "(' (the .cl's entry)");
                        continue;
                    }
                    if (p.params().size() != e.params().size()) {
                        problems.add(name + ": " + e.name() + " has " + p.params().size() + " .param lines, the .cl "
                                + e.params().size() + " parameters");
                        continue;
                    }
                    for (int i = 0; i < p.params().size(); i++) {
                        String got = KernelSignatures.ptxClass(p.params().get(i));
                        if (!got.equals(e.params().get(i).ptx)) {
                            problems.add(name + ": " + e.name() + " parameter " + i + " is " + p.params().get(i)
                                    + ", the .cl's is " + e.params().get(i) + " (" + e.params().get(i).ptx + ")");
                        }
                    }
                }
                List<String> extra = new ArrayList<>(entries.keySet());
                extra.removeAll(cl.stream().map(KernelSignatures.Entry::name).toList());
                if (!extra.isEmpty()) {
                    problems.add(name + ": entries the .cl does not have: " + extra);
                }
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    /**
     * ptxas's report has every entry for both architectures and no spills, in any module (variants
     * included): every kernel's registers fit (spills would go to local memory, i.e. DRAM traffic
     * in the inner loops).
     */
    @Test
    void thePtxasReportCoversEveryEntryWithoutSpills() {
        requirePtxBuilt();
        String report = read(reportPath());
        Map<String, String> spills = new LinkedHashMap<>();
        List<String> seen = new ArrayList<>();
        String current = null;
        String module = null;
        for (String line : report.split("\n")) {
            if (line.startsWith("== ")) {
                module = line.substring(3, line.indexOf(':'));
            }
            Matcher e = REPORT_ENTRY.matcher(line);
            if (e.find()) {
                current = e.group(1) + " on " + e.group(2);
                seen.add(current);
            }
            Matcher s = REPORT_SPILLS.matcher(line);
            if (s.find() && current != null && (!s.group(1).equals("0") || !s.group(2).equals("0"))) {
                spills.put(current + " in " + module, line.strip());
            }
        }
        List<String> missing = new ArrayList<>();
        for (String op : ops()) {
            for (KernelSignatures.Entry e : KernelSignatures.openCl(read(clPath(op)))) {
                for (String arch : ARCHS) {
                    String sm = arch.replace("compute_", "sm_");
                    if (!seen.contains(e.name() + " on " + sm)) {
                        missing.add(e.name() + " on " + sm);
                    }
                }
            }
        }
        assertTrue(missing.isEmpty(), reportPath() + " lacks ptxas's report for " + missing);
        assertTrue(spills.isEmpty(), "ptxas reports spills in " + reportPath() + ": " + spills);
    }

    /** The parser finds macro-generated entries and macro-held parameter lists, as a compiler would. */
    @Test
    void signaturesSeeThroughMacros() {
        String source = """
                #define ARGS __global const float* restrict a, /* two */ const int8 D, \\
                    const long L
                #define ROWS(NAME, K) __kernel void NAME(ARGS) { int x##K = 0; }
                ROWS(rows_a, 1)
                ROWS(rows_b, 2)
                """;
        List<KernelSignatures.Entry> entries = KernelSignatures.openCl(source);
        assertEquals(List.of("rows_a", "rows_b"), entries.stream().map(KernelSignatures.Entry::name).toList());
        assertEquals(List.of(KernelSignatures.Type.POINTER, KernelSignatures.Type.INT8, KernelSignatures.Type.LONG),
                entries.get(0).params());
        List<KernelSignatures.Entry> cuda = KernelSignatures.cuda("""
                #define WG 64
                extern "C" __global__ void __launch_bounds__((WG) * 2, 4)
                k(const float* __restrict__ a, const ck_int8 D, const long long L) {}
                """);
        assertEquals(entries.get(0).params(), cuda.get(0).params());
        Map<String, KernelSignatures.PtxEntry> ptx = KernelSignatures.ptx("""
                .visible .entry k(
                	.param .u64 .ptr .align 1 k_param_0,
                	.param .align 32 .b8 k_param_1[32],
                	.param .u64 k_param_2
                )
                """);
        assertEquals(List.of(".u64", ".b8[32]", ".u64"), ptx.get("k").params());
        assertEquals("32 bytes", KernelSignatures.ptxClass(".b8[32]"));
    }

    /** Skips (or, under CI=true with nvcc on the PATH, fails) unless the build made PTX. */
    private static void requirePtxBuilt() {
        Path report = reportPath();
        String why;
        if (!Files.isRegularFile(report)) {
            why = "no " + report + ": kernels/build-ptx.sh did not run (Maven runs it at generate-resources)";
        } else {
            Optional<String> unavailable = read(report).lines().filter(l -> l.startsWith(UNAVAILABLE)).findFirst();
            if (unavailable.isEmpty()) {
                return;
            }
            why = unavailable.get();
        }
        Optional<Path> nvcc = nvccOnPath();
        if ("true".equalsIgnoreCase(System.getenv("CI")) && nvcc.isPresent()) {
            fail("CI=true and nvcc is on the PATH (" + nvcc.get() + ") but the build made no PTX: " + why);
        }
        Assumptions.abort(why + "; the PTX checks are skipped");
    }

    private static Optional<Path> nvccOnPath() {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        return Stream.of(path.split(File.pathSeparator))
                .filter(d -> !d.isEmpty())
                .map(d -> Path.of(d, "nvcc"))
                .filter(Files::isExecutable)
                .findFirst();
    }

    /** Every op with an OpenCL kernel: the folders kernels/OP holding OP.cl, sorted. */
    private static List<String> ops() {
        try (Stream<Path> dirs = Files.list(kernelsDir())) {
            List<String> ops = dirs.filter(d -> Files.isRegularFile(d.resolve(d.getFileName() + ".cl")))
                    .map(d -> d.getFileName().toString())
                    .sorted()
                    .toList();
            assertFalse(ops.isEmpty(), "no kernels/OP/OP.cl under " + kernelsDir());
            return ops;
        } catch (IOException e) {
            throw new UncheckedIOException("listing " + kernelsDir(), e);
        }
    }

    /**
     * The PTX modules of an op: {@code <op>/<op>} (the .cu's defaults) and one per
     * {@code ptx-variant:} line of its .cu, named as {@link CudaLaunch#variantModule} names them.
     */
    private static List<String> modules(String op) {
        String base = op + "/" + op;
        List<String> modules = new ArrayList<>(List.of(base));
        Path cu = kernelsDir().resolve(op).resolve(op + ".cu");
        if (Files.isRegularFile(cu)) {
            for (Map<String, Integer> v : KernelSignatures.ptxVariants(read(cu))) {
                modules.add(CudaLaunch.variantModule(base, v));
            }
        }
        return modules;
    }

    /** The PTX resources of an op: each module for each architecture. */
    private static List<String> ptxResources(String op) {
        List<String> names = new ArrayList<>();
        for (String module : modules(op)) {
            for (String arch : ARCHS) {
                names.add(module + "." + arch + ".ptx");
            }
        }
        return names;
    }

    private static Map<String, List<KernelSignatures.Type>> byName(List<KernelSignatures.Entry> entries) {
        Map<String, List<KernelSignatures.Type>> map = new LinkedHashMap<>();
        for (KernelSignatures.Entry e : entries) {
            assertNull(map.put(e.name(), e.params()), "entry " + e.name() + " defined twice");
        }
        return map;
    }

    /** The text of a kernel source, by its path under {@code kernels/} (e.g. {@code conv2d/conv2d.cu}). */
    static String kernelSource(String relative) {
        return read(kernelsDir().resolve(relative));
    }

    private static Path kernelsDir() {
        Path dir = Path.of(System.getProperty("convkit.kernels.dir", "../kernels"));
        assertTrue(Files.isDirectory(dir), "kernel sources not found at " + dir.toAbsolutePath().normalize());
        return dir;
    }

    private static Path clPath(String op) {
        return kernelsDir().resolve(op).resolve(op + ".cl");
    }

    private static Path reportPath() {
        return Path.of(System.getProperty("convkit.cuda.report", "target/cuda-report.txt"));
    }

    private static Optional<String> resource(String name) {
        try (InputStream in = PtxBuildTest.class.getResourceAsStream(RESOURCES + name)) {
            return in == null ? Optional.empty() : Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("reading resource " + name, e);
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + p, e);
        }
    }
}
