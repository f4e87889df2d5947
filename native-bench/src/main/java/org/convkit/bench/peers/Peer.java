package org.convkit.bench.peers;

import java.util.ArrayList;
import java.util.List;

import org.convkit.backend.Backends;
import org.convkit.bench.Workloads.Workload;
import org.convkit.graph.Model;
import org.convkit.tensor.Tensor;

/**
 * One engine prepared to run one workload: convkit on one of its devices, ONNX Runtime, oneDNN,
 * or im2col + CLBlast on an OpenCL device, each on the same model (weights) and the same NCHW
 * input, writing an NCHW output.
 * Preparation (building kernels, reordering weights) is done by {@link #open}; {@link #run()}
 * is what the benchmarks time.
 */
public interface Peer extends AutoCloseable {
    /** The convkit devices a peer name can also be: {@code cpu}, {@code opencl:N}, {@code cuda:N}. */
    String ONNXRUNTIME = "onnxruntime";
    /** oneDNN through its C++ driver. */
    String ONEDNN = "onednn";
    /** im2col + CLBlast's SGEMM on an OpenCL device, through its C driver. */
    String CLBLAST = "clblast";

    /** The device name as the suite reports it: {@code cpu}, {@code opencl:0}, {@code onnxruntime}, {@code onednn}, {@code clblast}. */
    String device();

    /** One inference, waited for. */
    void run();

    /** Times {@code iterations} runs, in milliseconds each (a peer in another process times them there). */
    default double[] time(int iterations) {
        double[] ms = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long t0 = System.nanoTime();
            run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        return ms;
    }

    /** The output of the latest run, NCHW. */
    float[] output();

    /** What ran, in a few words (version, implementation, threads). */
    String detail();

    @Override
    void close();

    /**
     * Prepares {@code device} for {@code workload} on {@code model}'s weights and {@code input}
     * (both stay the caller's) with {@code threads} CPU threads for the CPU engines.
     *
     * @throws Unavailable when the engine cannot run here or cannot run this workload, with why
     */
    static Peer open(String device, Workload workload, Model model, Tensor input, int threads) {
        return switch (device) {
            case ONNXRUNTIME -> new OrtPeer(model, input, threads);
            case ONEDNN -> new OnednnPeer(model, input, threads);
            case CLBLAST -> new ClblastPeer(model, input);
            default -> new ConvkitPeer(device, workload, model, input, threads);
        };
    }

    /** Why {@code device} cannot run at all here, or null when it can (per-workload refusals come from {@link #open}). */
    static String unavailable(String device) {
        return switch (device) {
            case ONNXRUNTIME -> OrtPeer.unavailable();
            case ONEDNN -> NativeDriver.ONEDNN.unavailable();
            case CLBLAST -> {
                String why = NativeDriver.CLBLAST.unavailable();
                yield why != null || Backends.system().has("opencl") ? why : CLBLAST + ": no OpenCL device";
            }
            default -> {
                try {
                    Backends.system().find(device);
                    yield null;
                } catch (IllegalArgumentException | IllegalStateException e) {
                    yield e.getMessage();
                }
            }
        };
    }

    /** The peers a default run measures, in the order of the table's columns: convkit's devices, then the others. */
    static List<String> defaults() {
        List<String> out = new ArrayList<>(List.of("cpu", "opencl:0"));
        if (Backends.system().has("cuda")) {
            out.add("cuda:0");
        }
        out.add(ONNXRUNTIME);
        out.add(ONEDNN);
        out.add(CLBLAST);
        return out;
    }

    /** An engine that cannot run here, or cannot run a workload, and why. */
    final class Unavailable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public Unavailable(String why) {
            super(why);
        }

        public Unavailable(String why, Throwable cause) {
            super(why, cause);
        }
    }
}
