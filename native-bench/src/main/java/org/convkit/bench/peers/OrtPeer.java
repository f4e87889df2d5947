package org.convkit.bench.peers;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import org.convkit.graph.Layer;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.tensor.DType;
import org.convkit.tensor.Tensor;

/**
 * ONNX Runtime (its Java API, in this process) on the model exported by {@link OnnxExport}: CPU
 * execution provider, all graph optimizations, sequential execution, {@code threads} intra-op
 * threads (the calling thread included) and one inter-op thread. The input tensor is backed by
 * the caller's NCHW input (a direct buffer: nothing copied) and the output is bound to a buffer
 * of ours ("pinned output"), so a run is the inference alone, NCHW in and out.
 */
final class OrtPeer implements Peer {
    private final OrtSession session;
    private final OnnxTensor in;
    private final OnnxTensor pinned;
    private final Tensor out;
    private final Allocator host = Allocator.root("onnxruntime output");
    private final String outName;
    private final int threads;

    OrtPeer(Model model, Tensor input, int threads) {
        this.threads = threads;
        String why = unavailable();
        if (why != null) {
            throw new Unavailable(why);
        }
        Layer last = model.layers().get(model.layers().size() - 1);
        outName = last.name();
        OrtEnvironment env = environment();
        OrtSession s = null;
        OnnxTensor i = null;
        OnnxTensor o = null;
        Tensor t = Tensor.allocate(last.outputShape(), DType.F32, host, "onnxruntime output");
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(threads);
            opts.setInterOpNumThreads(1);
            opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            s = env.createSession(OnnxExport.of(model), opts);
            i = OnnxTensor.createTensor(env, floats(input), OnnxExport.dims(input.shape()));
            o = OnnxTensor.createTensor(env, floats(t), OnnxExport.dims(t.shape()));
        } catch (OrtException | RuntimeException e) {
            for (AutoCloseable c : new AutoCloseable[] {o, i, s}) {
                closeQuietly(c);
            }
            t.close();
            host.close();
            throw new Unavailable("onnxruntime refused the model: " + e.getMessage(), e);
        }
        session = s;
        in = i;
        pinned = o;
        out = t;
    }

    /** A direct buffer over a tensor's native memory: ONNX Runtime uses such a buffer in place. */
    private static FloatBuffer floats(Tensor t) {
        return t.segment().asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private static OrtEnvironment environment() {
        return OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, "convkit-bench");
    }

    /** Why ONNX Runtime cannot start here (its native library does not load), or null. */
    static String unavailable() {
        try {
            environment();
            return null;
        } catch (LinkageError | RuntimeException e) {
            return "onnxruntime: its native library did not load: " + e;
        }
    }

    /** ONNX Runtime's version, e.g. {@code 1.29.0}. */
    static String version() {
        return environment().getVersion();
    }

    @Override
    public String device() {
        return ONNXRUNTIME;
    }

    @Override
    public void run() {
        try {
            // The output is in our buffer already; the result only holds a reference to it.
            session.run(Map.of(OnnxExport.INPUT, in), Map.of(outName, pinned)).close();
        } catch (OrtException e) {
            throw new IllegalStateException("onnxruntime run failed: " + e.getMessage(), e);
        }
    }

    @Override
    public float[] output() {
        return out.toFloatArray();
    }

    @Override
    public String detail() {
        return "ONNX Runtime " + version() + " (Java API), CPU EP, " + threads + " intra-op threads, all optimizations";
    }

    @Override
    public void close() {
        pinned.close();
        in.close();
        closeQuietly(session);
        out.close();
        host.close();
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            // Closing after a failure: the first error is the one reported.
        }
    }
}
