package org.convkit.backend.opencl;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/**
 * Records OpenCL launches so that they can be replayed outside Java: native-bench's C harness
 * reads {@link #spec} and launches the very same kernels (same source, options, arguments and
 * work sizes) through the OpenCL C API, which measures what the Java binding adds.
 *
 * <p>Every kernel object's program and current arguments are remembered (a map update per
 * {@code clSetKernelArg}, negligible next to a launch); launches are captured only between
 * {@link #start()} and {@link #stop()}. Not meant for concurrent use.
 */
public final class ClTrace {
    /** One argument: a buffer (its id in the trace and its size), NULL, an int, a float, or local memory. */
    public record Arg(String kind, long value, int buffer) {
        @Override
        public String toString() {
            return switch (kind) {
                case "buffer" -> "buffer " + buffer + " " + value;
                case "float" -> "float " + Float.intBitsToFloat((int) value);
                default -> kind + (kind.equals("null") ? "" : " " + value);
            };
        }
    }

    /** One launch: the program's inlined source and options, the entry, the arguments, the work sizes (local may be null). */
    public record Launch(String source, String options, String entry, List<Arg> args, long[] global, long[] local) {
    }

    private record Program(String source, String options, String entry) {
    }

    private static final Map<cl_kernel, Program> PROGRAMS = new IdentityHashMap<>();
    private static final Map<cl_kernel, Map<Integer, Object>> ARGS = new IdentityHashMap<>();
    private static final List<Launch> LAUNCHES = new ArrayList<>();
    private static final Map<cl_mem, Integer> BUFFER_IDS = new IdentityHashMap<>();
    private static volatile boolean on;

    private ClTrace() {
    }

    /** Starts capturing launches (clears earlier captures). */
    public static synchronized void start() {
        LAUNCHES.clear();
        BUFFER_IDS.clear();
        on = true;
    }

    /** Stops capturing; returns the launches captured since {@link #start()} and forgets them. */
    public static synchronized List<Launch> stop() {
        on = false;
        List<Launch> out = List.copyOf(LAUNCHES);
        LAUNCHES.clear();
        return out;
    }

    static synchronized void created(cl_kernel k, String source, String options, String entry) {
        PROGRAMS.put(k, new Program(source, options, entry));
        ARGS.put(k, new java.util.TreeMap<>());
    }

    static synchronized void released(cl_kernel k) {
        PROGRAMS.remove(k);
        ARGS.remove(k);
    }

    /** Remembers an argument: a {@code cl_mem} with its size, an Integer, a Float, a local size (long[]), or null. */
    static synchronized void arg(cl_kernel k, int index, Object value) {
        Map<Integer, Object> a = ARGS.get(k);
        if (a != null) {
            a.put(index, value);
        }
    }

    static void launched(cl_kernel k, long[] global, long[] local) {
        if (on) {
            capture(k, global, local);
        }
    }

    private static synchronized void capture(cl_kernel k, long[] global, long[] local) {
        Program p = PROGRAMS.get(k);
        if (p == null) {
            return;
        }
        List<Arg> args = new ArrayList<>();
        for (Object v : ARGS.get(k).values()) {
            args.add(switch (v) {
                case null -> new Arg("null", 0, -1);
                case Integer i -> new Arg("int", i, -1);
                case Float f -> new Arg("float", Float.floatToRawIntBits(f), -1);
                case long[] local1 -> new Arg("local", local1[0], -1);
                case Object[] buf -> new Arg("buffer", (Long) buf[1],
                        BUFFER_IDS.computeIfAbsent((cl_mem) buf[0], m -> BUFFER_IDS.size()));
                default -> throw new IllegalStateException("trace: argument of type " + v.getClass());
            });
        }
        LAUNCHES.add(new Launch(p.source(), p.options(), p.entry(), args, global.clone(), local == null ? null : local.clone()));
    }

    /**
     * The replay spec of launches, in the line format native-bench/c/clreplay.c reads: per
     * launch, {@code source <bytes>} then the source, {@code options}, {@code entry},
     * {@code global}, {@code local}, one {@code arg} line per argument, and {@code launch}.
     */
    public static String spec(List<Launch> launches) {
        StringBuilder sb = new StringBuilder();
        for (Launch l : launches) {
            byte[] src = l.source().getBytes(StandardCharsets.UTF_8);
            sb.append("source ").append(src.length).append('\n').append(l.source()).append('\n');
            sb.append("options ").append(l.options()).append('\n');
            sb.append("entry ").append(l.entry()).append('\n');
            sb.append("global ").append(l.global().length);
            for (long g : l.global()) {
                sb.append(' ').append(g);
            }
            sb.append('\n').append("local ").append(l.local() == null ? 0 : l.local().length);
            if (l.local() != null) {
                for (long g : l.local()) {
                    sb.append(' ').append(g);
                }
            }
            sb.append('\n');
            for (Arg a : l.args()) {
                sb.append("arg ").append(a.kind().equals("float")
                        ? "float " + String.format(Locale.ROOT, "%08x", (int) a.value()) : a.toString()).append('\n');
            }
            sb.append("launch\n");
        }
        return sb.toString();
    }
}
