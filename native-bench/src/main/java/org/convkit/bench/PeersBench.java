package org.convkit.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.convkit.bench.peers.Peer;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.tensor.DType;
import org.convkit.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The benchmark workloads ({@link Workloads}) on convkit and on ONNX Runtime (Java API, in process),
 * on the same weights and input: one inference per call, NCHW in and out, waited for. The
 * engines are those of {@code ./convkit bench --suite peers} (which adds oneDNN, round-paired
 * speedups and output checks); 2 CPU threads each.
 *
 * <p>Run: {@code ./convkit jmh PeersBench} (the batch-1 workloads on cpu, opencl:0 and
 * onnxruntime), or e.g. {@code ./convkit jmh PeersBench -p device=onnxruntime -p
 * workload=W3a_3x3_64_56}. The batch-50 ids ({@code W2_seed_b50_net}, {@code _L1.._L3}) are
 * accepted with {@code -p workload=...} (a convkit call takes many seconds there today), and so
 * is {@code -p device=onednn}, whose calls also cross a pipe to the driver process (tens of
 * microseconds each).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class PeersBench {
    /** The single-layer workloads, for the GFLOP/s and GB/s of BenchMain's summary. */
    public static final Map<String, BenchCase> CASES = Workloads.singleLayerCases();
    /** Threads of every CPU engine, as in the table. */
    static final int THREADS = 2;
    /** Seed of the weights and the input. */
    static final long SEED = 5;

    @Param({"cpu", "opencl:0", "onnxruntime"})
    public String device;

    @Param({"W1_seed_b1_net", "W1_seed_b1_L1", "W1_seed_b1_L2", "W1_seed_b1_L3", "W3a_3x3_64_56", "W3b_3x3_256_14",
        "W3c_1x1_256to64_56", "W3d_7x7s2_3to64_224", "W4a_dw3x3_728_19", "W4b_pw1x1_728_19", "W5a_maxpool3s2_64_112",
        "W5b_lrn5_96_55"})
    public String workload;

    private Allocator host;
    private Model model;
    private Tensor input;
    private Peer peer;

    @Setup(Level.Trial)
    public void setUp() {
        Workloads.Workload w = Workloads.find(workload);
        host = Allocator.root("PeersBench");
        model = Model.withRandomParameters(w.graph(), SEED);
        input = Tensor.allocate(w.graph().inputShape(), DType.F32, host, "input").fillUniform(SEED, -1f, 1f);
        peer = Peer.open(device, w, model, input, THREADS);
    }

    @Benchmark
    public Peer infer() {
        peer.run();
        return peer;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        peer.close();
        input.close();
        model.close();
        host.close();
    }
}
