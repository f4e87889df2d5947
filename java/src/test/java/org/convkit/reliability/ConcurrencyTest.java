package org.convkit.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.exec.ExecutionMode;
import org.convkit.exec.InferenceResult;
import org.convkit.exec.RunOptions;
import org.convkit.exec.Session;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.tensor.DType;
import org.convkit.tensor.Tensor;
import org.convkit.testing.Figures;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.SmallNet;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One loaded model shared by {@value #THREADS} threads, each with its own execution state
 * ({@link Session#newExecution()}), each running {@link #RUNS} inferences on inputs it picks
 * from a set: every output equals the single-threaded one bit for bit, nothing throws, and the
 * device and host allocators end at zero. {@code -Dconvkit.concurrency.runs=N} changes the runs
 * per thread (the README's longer run).
 */
@ExtendWith(HostLeakCheck.class)
class ConcurrencyTest {
    private static final int THREADS = 8;
    private static final int RUNS = Integer.getInteger("convkit.concurrency.runs", 500);
    private static final int INPUTS = 16;
    private static Model model;
    private static Allocator host;
    private static final List<Tensor> inputs = new ArrayList<>();
    private static final Map<String, String> FIGURES = new ConcurrentHashMap<>();

    static Stream<Arguments> devicesAndModes() {
        List<Arguments> out = new ArrayList<>();
        for (DeviceInfo d : TestDevices.all()) {
            for (ExecutionMode m : ExecutionMode.values()) {
                out.add(Arguments.of(d.name(), m));
            }
        }
        return out.stream();
    }

    @BeforeAll
    static void build() {
        model = SmallNet.build(11);
        host = Allocator.root("concurrency inputs");
        for (int i = 0; i < INPUTS; i++) {
            inputs.add(Tensor.allocate(model.inputShape(), DType.F32, host, "input " + i).fillUniform(100 + i, -1f, 1f));
        }
    }

    @AfterAll
    static void close() {
        inputs.forEach(Tensor::close);
        inputs.clear();
        host.close();
        model.close();
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(FIGURES).forEach((k, v) -> sb.append(sb.isEmpty() ? "" : "\n").append(k).append(": ").append(v));
        Figures.record("concurrency", sb.toString());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("devicesAndModes")
    void eightThreadsShareOneModelAndGetTheSingleThreadedOutputs(String name, ExecutionMode mode) throws Exception {
        Allocator outputs = Allocator.root("concurrency outputs");
        RunOptions options = RunOptions.DEFAULT.withHostAllocator(outputs);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try (Device d = Backends.system().open(name);
                Session session = Session.open(model, d, mode)) {
            List<float[]> want = new ArrayList<>();
            for (Tensor in : inputs) {
                try (InferenceResult r = session.run(in, options)) {
                    want.add(r.output().toFloatArray());
                }
            }
            CountDownLatch start = new CountDownLatch(1);
            AtomicLong runs = new AtomicLong();
            List<Future<?>> futures = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    try (Session.Execution e = session.newExecution()) {
                        for (int i = 0; i < RUNS; i++) {
                            int k = (thread * 7 + i * 3) % INPUTS;
                            try (InferenceResult r = e.run(inputs.get(k), options)) {
                                assertArrayEquals(want.get(k), r.output().toFloatArray(),
                                        name + " " + mode + " thread " + thread + " run " + i + " input " + k);
                            }
                            runs.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertEquals((long) THREADS * RUNS, runs.get());
            assertEquals(model.parameterBytes(DType.F32) + (mode == ExecutionMode.PLANNED ? session.plan().arenaBytes() : 0),
                    d.allocator().liveBytes(), () -> "only the weights (and the session's arena) stay:\n" + d.allocator().tree());
            FIGURES.put(name + " " + mode.name().toLowerCase(), String.format("%d threads x %d inferences = %d, all equal "
                    + "to the single-threaded outputs, %.1f s", THREADS, RUNS, runs.get(), seconds));
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, outputs.liveBytes(), outputs::tree);
        outputs.close();
    }
}
