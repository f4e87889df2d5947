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
 * session's weights are intact. Not thread-safe.
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
    private DeviceBuffer arena;
    private final Map<String, DeviceBuffer> views = new HashMap<>();
    private boolean closed;

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
        if (mode == ExecutionMode.PLANNED) {
            arena = device.allocate(plan.arenaBytes(), activations, "arena");
            for (ArenaPlan.Placement p : plan.placements()) {
                views.put(p.tensor().name(), device.view(arena, p.offset(), p.tensor().bytes(), p.tensor().name()));
            }
        }
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

    /** Runs the model on {@code input} with these options; the caller closes the result. */
    public InferenceResult run(Tensor input, RunOptions options) {
        if (closed) {
            throw new IllegalStateException("session of model '" + model.name() + "' on " + device.name() + " is closed");
        }
        if (!input.shape().equals(model.inputShape()) || input.dtype() != DType.F32) {
            throw new IllegalArgumentException("model '" + model.name() + "': input must be " + model.inputShape()
                    + " f32, got " + input.shape() + " " + input.dtype().id());
        }
        activations.resetPeak();
        boolean planned = mode == ExecutionMode.PLANNED;
        Map<String, DeviceBuffer> live = new HashMap<>();
        List<LayerRun> runs = new ArrayList<>();
        Tensor output = null;
        try {
            long start = System.nanoTime();
            DeviceBuffer in = planned ? views.get(Model.INPUT) : device.allocate(input.byteSize(), activations, Model.INPUT);
            live.put(Model.INPUT, in);
            device.upload(input, in);
            List<Layer> layers = model.layers();
            for (int i = 0; i < layers.size(); i++) {
                Layer l = layers.get(i);
                long t0 = System.nanoTime();
                List<DeviceBuffer> args = new ArrayList<>();
                for (String name : l.inputs()) {
                    args.add(live.get(name));
                }
                args.addAll(parameters.get(l.name()));
                DeviceBuffer out = planned ? views.get(l.name())
                        : device.allocate(l.outputShape().byteSize(DType.F32), activations, l.name());
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
            Layer last = layers.get(layers.size() - 1);
            output = download(live.get(last.name()), last.outputShape(), options.hostAllocator(), "output");
            if (options.captureLayers()) {
                // The last layer's capture is the output itself.
                LayerRun lr = runs.remove(runs.size() - 1);
                runs.add(new LayerRun(lr.layer(), lr.shape(), lr.nanos(), output));
            }
            long total = System.nanoTime() - start;
            return new InferenceResult(device.name(), output, runs, total, activations.peakBytes());
        } catch (RuntimeException e) {
            runs.forEach(r -> {
                if (r.output() != null) {
                    r.output().close();
                }
            });
            if (output != null) {
                output.close();
            }
            throw e;
        } finally {
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

    /** Releases the kernels and the device copies of the parameters. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        kernels.forEach(Kernel::close);
        views.values().forEach(DeviceBuffer::close);
        if (arena != null) {
            arena.close();
        }
        parameters.values().forEach(bs -> bs.forEach(DeviceBuffer::close));
        allocator.close();
    }
}
