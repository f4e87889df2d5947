package org.convkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.exec.ExecutionMode;
import org.convkit.graph.Model;
import org.convkit.graph.zoo.Zoo;
import org.convkit.memory.Allocator;
import org.convkit.memory.Leaks;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.Figures;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bounded soak: {@value #RUNS} LeNet-5 inferences per device with device bytes, host bytes,
 * open OpenCL objects and reported leaks flat after the warm-up (the resident set is printed; it
 * is judged by {@code ./convkit soak}, which fixes the heap). And the two halves of the leak
 * check: a forgotten close() is reported with where it was allocated, and a climbing line is
 * not flat.
 */
@ExtendWith(HostLeakCheck.class)
class SoakTest {
    private static final long RUNS = Long.getLong("convkit.soak.runs", 4000);
    private static final Map<String, String> FIGURES = new ConcurrentHashMap<>();

    static List<String> devices() {
        return TestDevices.all().stream().map(DeviceInfo::name).toList();
    }

    @AfterAll
    static void figures() {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(FIGURES).forEach((k, v) -> sb.append(sb.isEmpty() ? "" : "\n").append(k).append(": ").append(v));
        Figures.record("soak", sb.toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void accountedMemoryAndOpenClObjectsStayFlat(String name) {
        try (Model model = Model.withRandomParameters(Zoo.find("lenet5").graph(1), 3);
                Device d = Backends.system().open(name)) {
            Soak.Result r = Soak.run(model, d, ExecutionMode.EAGER, RUNS, Double.MAX_VALUE, 8, null);
            Soak.Sample last = r.samples().get(r.samples().size() - 1);
            assertEquals(RUNS, last.runs());
            assertTrue(r.flat(), () -> name + ": " + r.problems() + "\n" + Soak.header() + "\n"
                    + String.join("\n", r.samples().stream().map(Soak::line).toList()));
            assertEquals(0, d.allocator().liveBytes(), d.allocator()::tree);
            FIGURES.put(name, String.format(java.util.Locale.ROOT, "%,d inferences in %.1f s, device %,d B, host %,d B, "
                    + "OpenCL objects %s, leaks %d at every sample after the warm-up; resident set %+.1f MiB (heap not "
                    + "fixed here)", last.runs(), last.seconds(), last.deviceLive(), last.hostLive(),
                    last.clObjects().isEmpty() ? "-" : last.clObjects(), last.leaks() - r.samples().get(0).leaks(),
                    r.rssDrift() / 1048576.0));
        }
    }

    @Test
    void aForgottenCloseIsReportedWithWhereItWasAllocated() throws InterruptedException {
        Allocator host = Allocator.root("leak check");
        long before = Leaks.count();
        Leaks.recordSites(true);
        try {
            forget(host);
        } finally {
            Leaks.recordSites(false);
        }
        for (int i = 0; i < 200 && Leaks.count() == before; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(before + 1, Leaks.count(), "the cleaner reports the forgotten tensor");
        String report = Leaks.reports().get(Leaks.reports().size() - 1);
        assertTrue(report.startsWith("host tensor 'forgotten' (4,096 B") && report.contains("in 'leak check') was garbage collected without close(); allocated at:")
                && report.contains("SoakTest.forget("), report);
        assertEquals(4096, host.liveBytes(), "the bytes stay reserved, so the allocator still shows the leak");
        host.liveAllocations().forEach(org.convkit.memory.Allocation::close);
        host.close();
    }

    /** Allocates a tensor and drops it without closing it. */
    private static void forget(Allocator host) {
        Tensor t = Tensor.allocate(Shape.of(1024), DType.F32, host, "forgotten");
        assertFalse(t.isClosed());
    }

    @Test
    void aClimbingLineIsNotFlat() {
        List<Soak.Sample> samples = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            samples.add(new Soak.Sample(i, 1000L * i, 1000 + (i < 4 ? 0 : 4096L * i), 0, Map.of("buffers", 3), 0,
                    100L << 20, 0));
        }
        Soak.Result r = Soak.judge(samples, true);
        assertFalse(r.flat());
        assertTrue(r.problems().get(0).startsWith("device live bytes moved"), r.problems().toString());
        samples.replaceAll(s -> new Soak.Sample(s.seconds(), s.runs(), 1000, 0, Map.of("buffers", 3), 0,
                (100L << 20) + (s.runs() << 14), 0));
        Soak.Result rss = Soak.judge(samples, true);
        assertTrue(!rss.flat() && rss.problems().get(0).startsWith("the resident set grew"), rss.problems().toString());
        assertTrue(Soak.judge(samples, false).flat(), "the resident set is judged only with a fixed heap");
    }
}
