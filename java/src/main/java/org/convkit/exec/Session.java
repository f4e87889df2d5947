package org.convkit.exec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.convkit.backend.Device;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.graph.Model;
import org.convkit.graph.Layer;
import org.convkit.memory.Allocator;
import org.convkit.memory.ArenaPlan;
import org.convkit.memory.Liveness;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * A model loaded on one device: parameters uploaded once, one kernel prepared per layer. Each
 * {@link #run} uploads the input, runs the layers in order, then downloads the output. In
 * {@link ExecutionMode#EAGER} mode every activation is freed as soon as its last reader has run;
 * in {@link ExecutionMode#PLANNED} mode they live in one arena allocated when the session opens,
 * at offsets planned from their lifetimes, and a run allocates nothing on the device.
 *
 * <p>Device memory is accounted under {@code <device>/session <model>}: {@code weights} and
 * {@code activations} (the arena, in planned mode); {@link InferenceResult#peakActivationBytes()}
 * is the latter's peak. An optional budget limits the session's device memory: going over it is
 * an {@link org.convkit.memory.OutOfDeviceMemoryException}, after which the model and the
 * session's weights are intact.
 *
 * <p><b>Threads.</b> {@link #run} uses the session's own execution state and is for one thread at
 * a time. To run one loaded model from several threads, each thread takes an {@link Execution}
 * ({@link #newExecution()}): kernels and activation memory of its own, the weights shared and
 * only read. Executions of one session run concurrently on the CPU and OpenCL devices, and give
 * the outputs a single thread gives, bit for bit. {@link #newExecution()} may be called from any
 * thread; {@link #close()} must not race a run.
 */
public final class Session implements AutoCloseable {
    private final Model model;
    private final Device device;
    private final Allocator allocator;
    private final Allocator weights;
    private final Allocator activations;
    private final List<Kernel> kernels = new ArrayList<>();
    private final Map<String, List<DeviceBuffer>> parameters = new HashMap<>();
    /** For each layer index, the tensors whose last reader it is. */
    private final List<List<String>> freeAfter = new ArrayList<>();
    private final ExecutionMode mode;
    private Liveness liveness;
    private ArenaPlan plan;
    /** The state {@link #run} uses; each {@link Execution} has its own. */
    private State main;
    private final List<Execution> executions = new ArrayList<>();
    private int executionCount;
    private volatile boolean closed;

    private Session(Model model, Device device, ExecutionMode mode, long budgetBytes) {
        this.model = model;
        this.device = device;
        this.mode = mode;
        this.allocator = device.allocator().child("session " + model.name(), budgetBytes);
        this.weights = allocator.child("weights");
        this.activations = allocator.child("activations");
    }

    /** Opens an eager session without a budget. */
    public static Session open(Model model, Device device) {
        return open(model, device, ExecutionMode.EAGER, Long.MAX_VALUE);
    }

    /** Opens a session in {@code mode} without a budget. */
    public static Session open(Model model, Device device, ExecutionMode mode) {
        return open(model, device, mode, Long.MAX_VALUE);
    }

    /**
     * Uploads the model's parameters to {@code device}, prepares its kernels and, in planned
     * mode, allocates the arena; the session's device memory may not exceed {@code budgetBytes}.
     */
    public static Session open(Model model, Device device, ExecutionMode mode, long budgetBytes) {
        Session s = new Session(model, device, mode, budgetBytes);
        try {
            s.load();
            return s;
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private void load() {
        List<Layer> layers = model.layers();
        Map<String, Integer> lastUse = new HashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            kernels.add(device.prepare(l.op(), l.inputShapes()));
            for (String in : l.inputs()) {
                lastUse.put(in, i);
            }
            List<DeviceBuffer> bufs = new ArrayList<>();
            parameters.put(l.name(), bufs);
            List<String> names = l.op().parameterNames(l.inputShapes());
            List<Tensor> host = model.parameters(l.name());
            for (int p = 0; p < host.size(); p++) {
                DeviceBuffer b = device.allocate(host.get(p).byteSize(), weights, l.name() + "/" + names.get(p));
                bufs.add(b);
                device.upload(host.get(p), b);
            }
            freeAfter.add(new ArrayList<>());
        }
        String output = layers.get(layers.size() - 1).name();
        lastUse.forEach((tensor, i) -> {
            if (!tensor.equals(output)) {
                freeAfter.get(i).add(tensor);
            }
        });
        Map<String, Long> workspace = new HashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            workspace.put(layers.get(i).name(), kernels.get(i).workspaceBytes());
        }
        liveness = Liveness.inference(model.graph(), DType.F32, l -> workspace.get(l.name()));
        long params = model.parameterBytes(DType.F32);
        String planText = String.format(Locale.ROOT, "plan of model '%s' (%s): parameters %,d B + activations at the "
                + "busiest step (%s) %,d B = %,d B", model.name(), mode.name().toLowerCase(Locale.ROOT), params,
                liveness.steps().get(liveness.peakStep()), liveness.peakBytes(), params + liveness.peakBytes());
        if (mode == ExecutionMode.PLANNED) {
            plan = liveness.plan(device.viewAlignment());
            planText += String.format(Locale.ROOT, "; arena %,d B", plan.arenaBytes());
        }
        allocator.setContext(planText);
        main = new State(kernels, activations);
    }

    /** How this session manages activation memory. */
    public ExecutionMode mode() {
        return mode;
    }

    /** When each tensor of a run lives (with this device's workspace sizes). */
    public Liveness liveness() {
        return liveness;
    }

    /** The arena plan in planned mode; null in eager mode. */
    public ArenaPlan plan() {
        return plan;
    }

    public Model model() {
        return model;
    }

    public Device device() {
        return device;
    }

    /** The allocator of this session's device memory (children {@code weights} and {@code activations}). */
    public Allocator allocator() {
        return allocator;
    }

    /** Runs the model on {@code input}; the output is allocated in {@link Allocator#host()}. */
    public InferenceResult run(Tensor input) {
        return run(input, RunOptions.DEFAULT);
    }

    /**
     * Runs the model on {@code input} with these options; the caller closes the result. Uses the
     * session's own execution state: one thread at a time (other threads use an {@link Execution}).
     */
    public InferenceResult run(Tensor input, RunOptions options) {
        checkOpen();
        return run(main, input, null, options);
    }

    /** Runs the model on {@code input} into {@code output}, a tensor of the caller's (see below). */
    public InferenceResult run(Tensor input, Tensor output) {
        return run(input, output, RunOptions.DEFAULT);
    }

    /**
     * Runs the model on {@code input} and writes its output into {@code output}, a host tensor of
     * the model's output shape (f32) that the caller owns and may reuse from run to run: nothing
     * is allocated for the output, and the result's {@link InferenceResult#output()} is
     * {@code output} (closing the result leaves it open). In planned mode on a device whose
     * buffers are host memory ({@link Device#sharesHostMemory()}, the CPU backend) the first
     * layers read {@code input} where it lies and the last layer writes straight into
     * {@code output}: nothing is copied in or out.
     */
    public InferenceResult run(Tensor input, Tensor output, RunOptions options) {
        checkOpen();
        checkOutput(output);
        return run(main, input, output, options);
    }

    private void checkOutput(Tensor output) {
        Layer last = model.layers().get(model.layers().size() - 1);
        if (output == null || output.isClosed() || !output.shape().equals(last.outputShape())
                || output.dtype() != DType.F32) {
            throw new IllegalArgumentException("model '" + model.name() + "': output must be an open "
                    + last.outputShape() + " f32 tensor, got " + (output == null ? "null"
                            : output.shape() + " " + output.dtype().id() + (output.isClosed() ? " (closed)" : "")));
        }
    }

    /**
     * A new execution state for this session: kernels and activation memory of its own (in
     * planned mode an arena of its own, allocated now), sharing the session's device copy of the
     * parameters. One thread per execution; several executions of one session may run at the
     * same time, on the CPU and OpenCL devices. Closed by its owner or by {@link #close()}.
     */
    public Execution newExecution() {
        synchronized (executions) {
            checkOpen();
            int n = ++executionCount;
            Allocator a = allocator.child("execution " + n);
            List<Kernel> own = new ArrayList<>();
            try {
                for (Layer l : model.layers()) {
                    own.add(device.prepare(l.op(), l.inputShapes()));
                }
                Execution e = new Execution(new State(own, a), n);
                executions.add(e);
                return e;
            } catch (RuntimeException e) {
                own.forEach(Kernel::close);
                a.close();
                throw e;
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("session of model '" + model.name() + "' on " + device.name() + " is closed");
        }
    }

    private InferenceResult run(State state, Tensor input, Tensor into, RunOptions options) {
        List<Kernel> kernels = state.kernels;
        Allocator activations = state.activations;
        Map<String, DeviceBuffer> views = state.views;
        if (!input.shape().equals(model.inputShape()) || input.dtype() != DType.F32) {
            throw new IllegalArgumentException("model '" + model.name() + "': input must be " + model.inputShape()
                    + " f32, got " + input.shape() + " " + input.dtype().id());
        }
        if (into == input) {
            throw new IllegalArgumentException("model '" + model.name() + "': the output tensor is the input tensor");
        }
        activations.resetPeak();
        boolean planned = mode == ExecutionMode.PLANNED;
        // In planned mode the arena never changes size, so on a device whose buffers are host
        // memory the input and output need no copies: the kernels use the host tensors directly.
        // Eager mode keeps its device allocations, whose peak is what it measures.
        boolean zeroCopy = planned && device.sharesHostMemory();
        Map<String, DeviceBuffer> live = new HashMap<>();
        List<LayerRun> runs = new ArrayList<>();
        List<DeviceBuffer> hostViews = new ArrayList<>(2);
        List<Layer> layers = model.layers();
        Layer last = layers.get(layers.size() - 1);
        Tensor output = null;
        boolean ownsOutput = into == null;
        try {
            long start = System.nanoTime();
            if (zeroCopy) {
                DeviceBuffer in = device.hostView(input, Model.INPUT);
                hostViews.add(in);
                live.put(Model.INPUT, in);
            } else {
                DeviceBuffer in = planned ? views.get(Model.INPUT) : device.allocate(input.byteSize(), activations, Model.INPUT);
                live.put(Model.INPUT, in);
                device.upload(input, in);
            }
            if (zeroCopy) {
                output = into != null ? into : Tensor.allocate(last.outputShape(), DType.F32, options.hostAllocator(), "output");
            }
            for (int i = 0; i < layers.size(); i++) {
                Layer l = layers.get(i);
                long t0 = System.nanoTime();
                List<DeviceBuffer> args = new ArrayList<>();
                for (String name : l.inputs()) {
                    args.add(live.get(name));
                }
                args.addAll(parameters.get(l.name()));
                DeviceBuffer out;
                if (zeroCopy && l == last) {
                    out = device.hostView(output, l.name());
                    hostViews.add(out);
                } else {
                    out = planned ? views.get(l.name())
                            : device.allocate(l.outputShape().byteSize(DType.F32), activations, l.name());
                }
                live.put(l.name(), out);
                Kernel kernel = kernels.get(i);
                if (planned) {
                    kernel.run(args, out, views.get(l.name() + "/workspace"));
                } else if (kernel.workspaceBytes() > 0) {
                    // A workspace lives only while its layer runs.
                    try (DeviceBuffer ws = device.allocate(kernel.workspaceBytes(), activations, l.name() + "/workspace")) {
                        kernel.run(args, out, ws);
                    }
                } else {
                    kernel.run(args, out);
                }
                if (options.layerTimings()) {
                    device.synchronize();
                }
                long nanos = options.layerTimings() ? System.nanoTime() - t0 : -1;
                Tensor captured = options.captureLayers() && i < layers.size() - 1
                        ? download(out, l.outputShape(), options.hostAllocator(), l.name()) : null;
                runs.add(new LayerRun(l.name(), l.outputShape(), nanos, captured));
                for (String dead : freeAfter.get(i)) {
                    DeviceBuffer b = live.remove(dead);
                    if (!planned) {
                        b.close();
                    }
                }
            }
            if (!zeroCopy) {
                if (into != null) {
                    device.download(live.get(last.name()), into);
                    output = into;
                } else {
                    output = download(live.get(last.name()), last.outputShape(), options.hostAllocator(), "output");
                }
            }
            if (options.captureLayers()) {
                // The last layer's capture is the output itself.
                LayerRun lr = runs.remove(runs.size() - 1);
                runs.add(new LayerRun(lr.layer(), lr.shape(), lr.nanos(), output));
            }
            long total = System.nanoTime() - start;
            return new InferenceResult(device.name(), output, runs, total, activations.peakBytes(), ownsOutput);
        } catch (RuntimeException e) {
            runs.forEach(r -> {
                if (r.output() != null && r.output() != into) {
                    r.output().close();
                }
            });
            if (output != null && ownsOutput) {
                output.close();
            }
            throw e;
        } finally {
            hostViews.forEach(DeviceBuffer::close);
            if (!planned) {
                live.values().forEach(DeviceBuffer::close);
            }
        }
    }

    private Tensor download(DeviceBuffer b, Shape shape, Allocator host, String owner) {
        Tensor t = Tensor.allocate(shape, DType.F32, host, owner);
        try {
            device.download(b, t);
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    /**
     * Releases the kernels, the executions still open and the device copies of the parameters.
     * No run may be in progress, in this session or in one of its executions.
     */
    @Override
    public void close() {
        synchronized (executions) {
            if (closed) {
                return;
            }
            closed = true;
            List.copyOf(executions).forEach(Execution::close);
        }
        if (main != null) {
            main.close();
        } else {
            kernels.forEach(Kernel::close);
        }
        parameters.values().forEach(bs -> bs.forEach(DeviceBuffer::close));
        allocator.close();
    }

    /**
     * What one thread needs to run the model: kernels (an OpenCL kernel object holds its
     * arguments, so two threads cannot share one) and activation memory, which in planned mode is
     * an arena with a view per tensor.
     */
    private final class State {
        final List<Kernel> kernels;
        final Allocator activations;
        final Map<String, DeviceBuffer> views = new HashMap<>();
        private DeviceBuffer arena;

        State(List<Kernel> kernels, Allocator activations) {
            this.kernels = kernels;
            this.activations = activations;
            if (mode == ExecutionMode.PLANNED) {
                try {
                    arena = device.allocate(plan.arenaBytes(), activations, "arena");
                    for (ArenaPlan.Placement p : plan.placements()) {
                        views.put(p.tensor().name(), device.view(arena, p.offset(), p.tensor().bytes(), p.tensor().name()));
                    }
                } catch (RuntimeException e) {
                    views.values().forEach(DeviceBuffer::close);
                    if (arena != null) {
                        arena.close();
                    }
                    throw e;
                }
            }
        }

        void close() {
            kernels.forEach(Kernel::close);
            views.values().forEach(DeviceBuffer::close);
            if (arena != null) {
                arena.close();
            }
        }
    }

    /**
     * An execution state of a {@link Session}: one thread runs it at a time, while other threads
     * run other executions of the same session (the session's weights are shared, read only).
     * Its device memory is accounted under the session, in {@code execution <n>}.
     */
    public final class Execution implements AutoCloseable {
        private final State state;
        private final int number;
        private boolean closed;

        private Execution(State state, int number) {
            this.state = state;
            this.number = number;
        }

        /** Runs the model on {@code input}; the output is allocated in {@link Allocator#host()}. */
        public InferenceResult run(Tensor input) {
            return run(input, RunOptions.DEFAULT);
        }

        /** Runs the model on {@code input} with these options; the caller closes the result. */
        public InferenceResult run(Tensor input, RunOptions options) {
            checkUsable();
            return Session.this.run(state, input, null, options);
        }

        /** Runs the model on {@code input} into {@code output}, as {@link Session#run(Tensor, Tensor, RunOptions)}. */
        public InferenceResult run(Tensor input, Tensor output, RunOptions options) {
            checkUsable();
            checkOutput(output);
            return Session.this.run(state, input, output, options);
        }

        private void checkUsable() {
            if (closed) {
                throw new IllegalStateException("execution " + number + " of model '" + model.name() + "' on "
                        + device.name() + " is closed");
            }
            Session.this.checkOpen();
        }

        /** The session this execution belongs to. */
        public Session session() {
            return Session.this;
        }

        /** This execution's activation memory (in planned mode, its arena). */
        public Allocator allocator() {
            return state.activations;
        }

        /** Releases this execution's kernels and activation memory; the session stays open. */
        @Override
        public void close() {
            synchronized (executions) {
                if (closed) {
                    return;
                }
                closed = true;
                executions.remove(this);
            }
            state.close();
            state.activations.close();
        }
    }
}
