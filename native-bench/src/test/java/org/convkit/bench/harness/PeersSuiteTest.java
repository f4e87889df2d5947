package org.convkit.bench.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.convkit.backend.Backends;
import org.convkit.bench.Workloads;
import org.convkit.bench.peers.Peer;
import org.convkit.memory.Allocator;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeersSuiteTest {
    private static final boolean CI = "true".equals(System.getenv("CI"));

    @Test
    void theWorkloadsAreTheIssuesWithTheirShapesAndFlops() {
        assertEquals(List.of("W1_seed_b1_net", "W1_seed_b1_L1", "W1_seed_b1_L2", "W1_seed_b1_L3", "W2_seed_b50_net",
                "W2_seed_b50_L1", "W2_seed_b50_L2", "W2_seed_b50_L3", "W3a_3x3_64_56", "W3b_3x3_256_14", "W3c_1x1_256to64_56",
                "W3d_7x7s2_3to64_224", "W4a_dw3x3_728_19", "W4b_pw1x1_728_19", "W5a_maxpool3s2_64_112", "W5b_lrn5_96_55"),
                Workloads.ids());
        // The issue's GFLOP/s figures are these FLOPs over its times: 2.80 GFLOP / 10.6 ms = 265 GFLOP/s.
        assertEquals(2_799_000_000L, Workloads.find("W1_seed_b1_net").flops());
        assertEquals(50 * Workloads.find("W1_seed_b1_net").flops(), Workloads.find("W2_seed_b50_net").flops());
        assertEquals(2L * 64 * 64 * 9 * 56 * 56, Workloads.find("W3a_3x3_64_56").flops());
        assertEquals(2L * 728 * 9 * 19 * 19, Workloads.find("W4a_dw3x3_728_19").flops());
        Workloads.Workload l2 = Workloads.find("W2_seed_b50_L2");
        assertEquals(Shape.nchw(50, 100, 100, 150), l2.graph().inputShape(), "conv2 alone, on what conv1 gives it");
        assertEquals(14, Workloads.singleLayerCases().size(), "every workload but the two networks is one layer");
        assertTrue(Workloads.singleLayerCases().containsKey("W5b_lrn5_96_55"));
    }

    private static PeersSuite.Record record(String device, double... roundMedians) {
        List<Double> r = new ArrayList<>();
        for (double v : roundMedians) {
            r.add(v);
        }
        return new PeersSuite.Record("W3a_3x3_64_56", device, r, r, 1, 1, 0, 1, "test", null);
    }

    @Test
    void speedupsAreRatiosOfMediansWithTheSpreadOfRoundPairs() {
        PeersSuite.Speedup same = PeersSuite.speedup(record("cpu", 2, 4, 3), record("onnxruntime", 1, 1, 3));
        assertEquals(1.0 / 3, same.median(), 1e-12, "median 1 over median 3");
        assertEquals(0.25, same.min(), 1e-12, "round 2: 1 / 4");
        assertEquals(1.0, same.max(), 1e-12, "round 3: 3 / 3");
        PeersSuite.Speedup single = PeersSuite.speedup(record("cpu", 10), record("onednn", 1, 2));
        assertEquals(0.15, single.median(), 1e-12);
        assertEquals(0.1, single.min(), 1e-12, "one cpu sample: paired with every round of the peer");
        assertEquals(0.2, single.max(), 1e-12);
        assertNull(PeersSuite.speedup(record("cpu", 1), new PeersSuite.Record("x", "onednn", List.of(), List.of(),
                Double.NaN, Double.NaN, Double.NaN, 1, null, "no oneDNN")));
    }

    @Test
    void theConvolutionsShareOfTheProbedPeakUsesTheBestProbe() {
        // W3a is 0.231 GFLOP: 1 ms is 231.2 GFLOP/s, 0.5 ms 462.4; the best probe is 462.4.
        double gflop = Workloads.find("W3a_3x3_64_56").flops() / 1e9;
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        PeersSuite.printPeakShare(new PrintStream(text, true, StandardCharsets.UTF_8),
                List.of(record("cpu", 1, 0.5, 2), record("onnxruntime", 0.1), new PeersSuite.Record("W5a_maxpool3s2_64_112",
                        "cpu", List.of(1.0), List.of(1.0), 1, 1, 0, 1, "test", null)),
                new double[] {gflop * 1000, gflop * 2000, gflop * 1500});
        String s = text.toString(StandardCharsets.UTF_8);
        assertTrue(s.contains("3 probes") && s.contains(String.format(java.util.Locale.ROOT, "best %.0f GFLOP/s", gflop * 2000)), s);
        assertTrue(s.matches("(?s).*W3a_3x3_64_56 +50% +100%.*"), "median 1 ms, best 0.5 ms of a peak of 0.5 ms:\n" + s);
        assertFalse(s.contains("W5a") || s.contains("onnxruntime"), "only convkit cpu's convolutions:\n" + s);
    }

    @Test
    void aQuickRunMeasuresEveryEngineAndEveryPeerAgreesWithConvkit(@TempDir Path dir) {
        List<String> devices = new ArrayList<>(List.of("cpu"));
        if (Backends.system().has("opencl")) {
            devices.add("opencl:0");
        }
        devices.add(Peer.ONNXRUNTIME);
        devices.add(Peer.ONEDNN);
        devices.add(Peer.CLBLAST);
        List<String> workloads = List.of("W4a_dw3x3_728_19", "W5b_lrn5_96_55");
        PeersSuite.Options o = new PeersSuite.Options(devices, workloads, 2, 2, 2, 2, 20, 1000);
        long host = Allocator.host().liveBytes();
        List<String> progress = new ArrayList<>();
        List<PeersSuite.Record> records = new PeersSuite(o, progress::add).run();
        assertEquals(host, Allocator.host().liveBytes(), "host memory back");
        assertTrue(progress.containsAll(workloads), progress.toString());
        assertEquals(workloads.size() * devices.size(), records.size());
        for (PeersSuite.Record r : records) {
            String what = r.workload() + " on " + r.device();
            if (r.device().equals(Peer.CLBLAST)) {
                // Depthwise and LRN are no im2col + SGEMM: refused with why, whether CLBlast is here or not.
                assertFalse(r.measured(), what);
                assertTrue(r.unavailable().startsWith("clblast:"), r.unavailable());
                continue;
            }
            if (r.device().equals(Peer.ONEDNN) && !r.measured()) {
                // libdnnl-dev is optional here; CI installs it.
                assertFalse(CI, what + " did not run in CI: " + r.unavailable());
                assertTrue(r.unavailable().startsWith("onednn:"), r.unavailable());
                continue;
            }
            assertTrue(r.measured(), what + ": " + r.unavailable());
            assertFalse(r.ms().isEmpty(), what);
            assertTrue(r.stats().min() > 0, what);
            assertTrue(r.gflops() > 0 && r.gbs() > 0, what);
            assertNotNull(r.detail(), what);
            // Same weights, same input: every engine gives convkit cpu's output (float32 rounding apart).
            assertTrue(r.maxAbsRef() > 0.1, what + ": the output is not all zeros");
            assertTrue(r.maxAbsErr() <= 1e-5 * r.maxAbsRef(), what + ": max |y - y_cpu| " + r.maxAbsErr());
        }

        ByteArrayOutputStream text = new ByteArrayOutputStream();
        PeersSuite.print(new PrintStream(text, true, StandardCharsets.UTF_8), devices, records);
        String table = text.toString(StandardCharsets.UTF_8);
        assertTrue(table.contains("W4a_dw3x3_728_19") && table.contains("cpu vs ORT") && table.contains("cpu vs oneDNN"),
                table);

        Path json = dir.resolve("peers.json");
        PeersSuite.writeJson(json, records);
        assertJsonShape(json, records.size());
    }

    @Test
    void openclIsComparedWithClblastInBothTablesAndTheJson(@TempDir Path dir) throws java.io.IOException {
        List<String> devices = List.of("cpu", "opencl:0", Peer.ONEDNN, Peer.CLBLAST);
        List<PeersSuite.Record> records = List.of(record("cpu", 1, 1, 1), record("opencl:0", 2, 4, 2),
                record(Peer.ONEDNN, 3, 3, 3), record(Peer.CLBLAST, 4, 4, 8));
        PeersSuite.Speedup s = PeersSuite.speedup(records.get(1), records.get(3));
        assertEquals(2.0, s.median(), 1e-12, "CLBlast's median 4 over opencl:0's 2");
        assertEquals(1.0, s.min(), 1e-12, "round 2: 4 / 4");
        assertEquals(4.0, s.max(), 1e-12, "round 3: 8 / 2");
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        PeersSuite.print(new PrintStream(text, true, StandardCharsets.UTF_8), devices, records);
        List<String> lines = text.toString(StandardCharsets.UTF_8).lines().toList();
        List<String> headers = lines.stream().filter(l -> l.startsWith("workload ") && l.contains(" ms ")).toList();
        assertEquals(2, headers.size(), lines.toString());
        for (String h : headers) {
            // The existing columns keep their order; CLBlast's time and the OpenCL comparison come after them.
            assertTrue(h.matches("workload +cpu ms +opencl:0 ms +oneDNN ms +CLBlast ms +cpu vs oneDNN +opencl:0 vs CLBlast"), h);
        }
        List<String> rows = lines.stream().filter(l -> l.startsWith("W3a_3x3_64_56 ")).toList();
        assertTrue(rows.get(0).endsWith("2.00x [1.00x-4.00x]"), rows.get(0));
        assertTrue(rows.get(1).endsWith("2.00x"), "best runs: 4 / 2: " + rows.get(1));
        Path json = dir.resolve("peers.json");
        PeersSuite.writeJson(json, records);
        assertJsonShape(json, records.size());
        String j = Files.readString(json);
        assertEquals(1, j.split("\"opencl_speedup\"").length - 1, "only CLBlast's record has it: " + j);
        assertTrue(j.contains("\"opencl_speedup\": 2"), j);
    }

    /** The issue's record shape: a JSON array of objects opening with these six keys, in this order. */
    private static void assertJsonShape(Path json, int count) {
        String s;
        try {
            s = Files.readString(json).strip();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertTrue(s.startsWith("[") && s.endsWith("]"), s);
        Pattern record = Pattern.compile("\\{\\s*\"workload\": \"(W[^\"]+)\",\\s*\"device\": \"([^\"]+)\",\\s*"
                + "\"median_ms\": (null|[0-9.e+-]+),\\s*\"min_ms\": (null|[0-9.e+-]+),\\s*\"max_ms\": (null|[0-9.e+-]+),\\s*"
                + "\"gflops\": (null|[0-9.e+-]+),");
        Matcher m = record.matcher(s);
        int n = 0;
        while (m.find()) {
            n++;
            if (!m.group(3).equals("null")) {
                double median = Double.parseDouble(m.group(3));
                assertTrue(Double.parseDouble(m.group(4)) <= median && median <= Double.parseDouble(m.group(5)), m.group());
            }
        }
        assertEquals(count, n, s);
        assertEquals(count, s.split("\"workload\"").length - 1, "no record of another shape");
    }

    @Test
    void theCommandRejectsBadOptionsNamingThem() {
        for (String[] args : new String[][] {{"--suite", "peers", "--device", "tpu"}, {"--suite", "peers", "--workload", "W9"},
                {"--suite", "peers", "--rounds", "0"}, {"--suite", "peers", "--report", "x.md"}}) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int rc = BenchCommand.run(args, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            assertEquals(2, rc, String.join(" ", args));
            String msg = err.toString(StandardCharsets.UTF_8);
            assertTrue(msg.contains(args[3]) || msg.contains(args[2]), msg);
        }
    }
}
