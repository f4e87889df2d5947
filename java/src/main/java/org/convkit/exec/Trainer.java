package org.convkit.exec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.convkit.backend.Device;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.memory.ArenaPlan;
import org.convkit.memory.Footprint;
import org.convkit.memory.Liveness;
import org.convkit.memory.TensorLife;
import org.convkit.memory.TrainingSchedule;
import org.convkit.ops.Op;
import org.convkit.ops.SoftmaxCrossEntropy;
import org.convkit.ops.train.StepScalars;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * Trains a model on one device: each {@link #step} uploads a mini-batch and its labels and runs
 * the {@link TrainingSchedule} (forward, softmax cross-entropy loss, backward pass, optimizer
 * updates) exactly as planned. The parameters live on the device from {@link #open} until
 * {@link #close}; {@link #downloadParameters()} copies them back into the model.
 *
 * <p>Memory, under {@code <device>/training <model>}: {@code weights} (the parameters),
 * {@code optimizer} (momentum or Adam's moments, and the 16-byte step scalars) and
 * {@code activations}. In {@link ExecutionMode#EAGER} mode each transient tensor (activation,
 * gradient, labels, workspace) is allocated at the step that writes it and freed after the last
 * step that reads it, so the peak is the schedule's lower bound; in {@link ExecutionMode#PLANNED}
 * mode they are views of one arena planned from the same lifetimes, and a step allocates nothing.
 * Either way the allocator's peak equals {@link #plannedBytes()} to the byte. A budget turns going
 * over it into an {@link org.convkit.memory.OutOfDeviceMemoryException}.
 *
 * <p>Every op of the model must declare its gradient terms and the device must have their
 * kernels; otherwise {@link #open} refuses, naming the layer or the op. Not thread-safe.
 */
public final class Trainer implements AutoCloseable {
    private record KernelKey(Op op, List<Shape> inputs) {
    }

    /**
     * Steps to run, their kernels, and for each step the transient tensors that come to life at it
     * and those that die after it.
     */
    private record Pass(List<TrainingSchedule.Step> steps, List<Kernel> kernels, List<List<TensorLife>> born,
            List<List<TensorLife>> dying, int lossStep) {
    }

    private final Model model;
    private final Device device;
    private final TrainingOptions options;
    private final Allocator allocator;
    private final Allocator weights;
    private final Allocator state;
    private final Allocator activations;
    private final Allocator host;
    private final Map<KernelKey, Kernel> kernels = new LinkedHashMap<>();
    private final Map<String, DeviceBuffer> persistent = new HashMap<>();
    private final Map<String, DeviceBuffer> views = new HashMap<>();
    private TrainingSchedule schedule;
    private Liveness liveness;
    private ArenaPlan plan;
    private DeviceBuffer arena;
    /** The training step, and the evaluation (forward pass in the model's own form, then the loss). */
    private Pass training;
    private Pass evaluation;
    private Tensor lossHost;
    private Tensor scalarsHost;
    private long steps;
    private boolean closed;

    private Trainer(Model model, Device device, TrainingOptions options) {
        this.model = model;
        this.device = device;
        this.options = options;
        this.allocator = device.allocator().child("training " + model.name(), options.budgetBytes());
        this.weights = allocator.child("weights");
        this.state = allocator.child("optimizer");
        this.activations = allocator.child("activations");
        this.host = Allocator.host().child("trainer " + model.name());
    }

    /**
     * Plans the training step of {@code model} on {@code device}, prepares every kernel, uploads
     * the parameters, zeroes the optimizer state and, in planned mode, allocates the arena.
     *
     * @throws IllegalArgumentException if a layer's op has no backward pass
     * @throws org.convkit.backend.UnsupportedOpException if the device lacks a kernel the step needs
     */
    public static Trainer open(Model model, Device device, TrainingOptions options) {
        Trainer t = new Trainer(model, device, options);
        try {
            t.load();
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    private void load() {
        schedule = TrainingSchedule.of(model.graph(), DType.F32, options.updates(), options.checkpointing(),
                // An op without a kernel here is refused below, by name, once the schedule is known.
                (op, in) -> device.supports(op) ? kernel(op, in).workspaceBytes() : 0);
        if (!schedule.modelledLayers().isEmpty()) {
            String layer = schedule.modelledLayers().iterator().next();
            throw new IllegalArgumentException("model '" + model.name() + "': layer '" + layer + "' ("
                    + model.graph().layer(layer).describe() + ") has no backward pass; it cannot be trained");
        }
        liveness = Liveness.training(schedule);
        training = pass(schedule.steps(), liveness);
        Liveness evaluated = Liveness.evaluation(schedule);
        evaluation = pass(schedule.evaluationSteps(), evaluated);
        String planText = String.format(Locale.ROOT, "training plan of model '%s' (%s, %s): persistent %,d B + transient "
                + "at the busiest step (%s) %,d B = %,d B", model.name(), options.mode().name().toLowerCase(Locale.ROOT),
                options.optimizer().id(), schedule.persistentBytes(), liveness.steps().get(liveness.peakStep()),
                liveness.peakBytes(), schedule.persistentBytes() + liveness.peakBytes());
        if (options.mode() == ExecutionMode.PLANNED) {
            plan = liveness.plan(device.viewAlignment());
            planText += String.format(Locale.ROOT, "; arena %,d B", plan.arenaBytes());
        }
        allocator.setContext(planText);
        for (TrainingSchedule.Tensor t : schedule.tensors().values()) {
            switch (t.role()) {
                case PARAMETER -> {
                    DeviceBuffer b = device.allocate(schedule.bytes(t.name()), weights, t.name());
                    persistent.put(t.name(), b);
                    device.upload(model.parameters(t.layer()).get(t.parameter()), b);
                }
                case OPTIMIZER_STATE -> {
                    DeviceBuffer b = device.allocate(schedule.bytes(t.name()), state, t.name());
                    persistent.put(t.name(), b);
                    try (Tensor zeros = Tensor.allocate(t.shape(), DType.F32, host, "zeros")) {
                        device.upload(zeros, b);
                    }
                }
                case STEP_SCALARS -> persistent.put(t.name(), device.allocate(schedule.bytes(t.name()), state, t.name()));
                default -> {
                }
            }
        }
        lossHost = Tensor.allocate(schedule.tensors().get(TrainingSchedule.LOSS).shape(), DType.F32, host, "loss");
        scalarsHost = Tensor.allocate(StepScalars.SHAPE, DType.F32, host, "step scalars");
        if (plan != null) {
            arena = device.allocate(plan.arenaBytes(), activations, "arena");
            for (ArenaPlan.Placement p : plan.placements()) {
                views.put(p.tensor().name(), device.view(arena, p.offset(), p.tensor().bytes(), p.tensor().name()));
            }
            // An evaluation's tensors are training tensors living no longer: the training step's places serve.
            for (TensorLife t : evaluated.tensors()) {
                DeviceBuffer b = views.get(t.name());
                if (b == null || b.bytes() < t.bytes()) {
                    throw new IllegalStateException("model '" + model.name() + "': the evaluation's " + t.name() + " ("
                            + t.bytes() + " B) has no place of its size in the training arena");
                }
            }
        }
    }

    private Pass pass(List<TrainingSchedule.Step> steps, Liveness l) {
        List<List<TensorLife>> born = new ArrayList<>();
        List<List<TensorLife>> dying = new ArrayList<>();
        int loss = -1;
        for (int i = 0; i < steps.size(); i++) {
            born.add(new ArrayList<>());
            dying.add(new ArrayList<>());
            if (steps.get(i).action() == TrainingSchedule.Action.LOSS) {
                loss = i;
            }
        }
        for (TensorLife t : l.tensors()) {
            if (t.kind() != TensorLife.Kind.WORKSPACE) {
                born.get(t.first()).add(t);
                dying.get(t.last()).add(t);
            }
        }
        List<Kernel> ks = steps.stream().map(st -> kernel(st.op(), st.inputShapes())).toList();
        return new Pass(steps, ks, born, dying, loss);
    }

    private Kernel kernel(Op op, List<Shape> inputs) {
        return kernels.computeIfAbsent(new KernelKey(op, List.copyOf(inputs)), k -> device.prepare(op, inputs));
    }

    /**
     * One training step on {@code images} (the model's input shape) with {@code labels} (a class
     * index per position, as {@link SoftmaxCrossEntropy} takes them): forward, loss, backward and
     * update. The loss and accuracy are those of the parameters before the update.
     */
    public StepResult step(Tensor images, Tensor labels) {
        return run(images, labels, training);
    }

    /**
     * The loss and accuracy of the current parameters on a batch: the forward pass in the model's
     * own form (batch normalization with its running statistics) and the loss; nothing is updated.
     */
    public StepResult evaluate(Tensor images, Tensor labels) {
        return run(images, labels, evaluation);
    }

    private StepResult run(Tensor images, Tensor labels, Pass pass) {
        boolean train = pass == training;
        if (closed) {
            throw new IllegalStateException("trainer of model '" + model.name() + "' on " + device.name() + " is closed");
        }
        check(images, labels);
        allocator.resetPeak();
        long start = System.nanoTime();
        if (train) {
            steps++;
            float[] s = options.scalars(steps);
            for (int i = 0; i < s.length; i++) {
                scalarsHost.set(i, s[i]);
            }
            device.upload(scalarsHost, persistent.get(TrainingSchedule.SCALARS));
        }
        boolean planned = plan != null;
        Map<String, DeviceBuffer> live = new HashMap<>();
        List<TrainingSchedule.Step> ss = pass.steps();
        try {
            for (int i = 0; i < ss.size(); i++) {
                TrainingSchedule.Step st = ss.get(i);
                for (TensorLife t : pass.born().get(i)) {
                    DeviceBuffer b = planned ? views.get(t.name()) : device.allocate(t.bytes(), activations, t.name());
                    live.put(t.name(), b);
                    if (t.kind() == TensorLife.Kind.INPUT) {
                        device.upload(images, b);
                    } else if (t.kind() == TensorLife.Kind.LABELS) {
                        device.upload(labels, b);
                    }
                }
                List<DeviceBuffer> args = new ArrayList<>(st.args().size());
                for (String a : st.args()) {
                    args.add(buffer(a, live));
                }
                DeviceBuffer out = buffer(st.output(), live);
                Kernel k = pass.kernels().get(i);
                if (st.workspaceBytes() == 0) {
                    k.run(args, out);
                } else if (planned) {
                    k.run(args, out, views.get(st.name() + "/workspace"));
                } else {
                    try (DeviceBuffer ws = device.allocate(st.workspaceBytes(), activations, st.name() + "/workspace")) {
                        k.run(args, out, ws);
                    }
                }
                if (i == pass.lossStep()) {
                    device.download(out, lossHost);
                }
                for (TensorLife t : pass.dying().get(i)) {
                    DeviceBuffer b = live.remove(t.name());
                    if (!planned) {
                        b.close();
                    }
                }
            }
            device.synchronize();
        } finally {
            if (!planned) {
                live.values().forEach(DeviceBuffer::close);
            }
        }
        long nanos = System.nanoTime() - start;
        int positions = (int) (lossHost.elementCount() / 2);
        double loss = 0;
        long correct = 0;
        for (int r = 0; r < positions; r++) {
            loss += lossHost.get(r);
            correct += (long) lossHost.get(positions + r);
        }
        return new StepResult(device.name(), loss / positions, correct, positions, images.shape().dim(0), nanos,
                allocator.peakBytes());
    }

    private DeviceBuffer buffer(String tensor, Map<String, DeviceBuffer> live) {
        DeviceBuffer b = persistent.get(tensor);
        return b != null ? b : live.get(tensor);
    }

    private void check(Tensor images, Tensor labels) {
        Shape labelsShape = schedule.tensors().get(TrainingSchedule.LABELS).shape();
        if (!images.shape().equals(model.inputShape()) || images.dtype() != DType.F32) {
            throw new IllegalArgumentException("trainer of model '" + model.name() + "': images must be "
                    + model.inputShape() + " f32, got " + images.shape() + " " + images.dtype().id());
        }
        if (!labels.shape().equals(labelsShape) || labels.dtype() != DType.F32) {
            throw new IllegalArgumentException("trainer of model '" + model.name() + "': labels must be " + labelsShape
                    + " f32 (one class index per position), got " + labels.shape() + " " + labels.dtype().id());
        }
        int classes = model.graph().layer(schedule.logits()).outputShape().dim(1);
        for (long i = 0; i < labels.elementCount(); i++) {
            float v = labels.get(i);
            if (!(v >= 0 && v < classes && v == Math.floor(v))) {
                throw new IllegalArgumentException("trainer of model '" + model.name() + "': label " + i + " is " + v
                        + ", not a class index in [0, " + classes + ")");
            }
        }
    }

    /** Copies the device's parameters into the model's host tensors (e.g. to run it in a {@link Session}). */
    public void downloadParameters() {
        for (TrainingSchedule.Tensor t : schedule.tensors().values()) {
            if (t.role() == TrainingSchedule.Role.PARAMETER) {
                device.download(persistent.get(t.name()), model.parameters(t.layer()).get(t.parameter()));
            }
        }
    }

    /** What the trainer runs. */
    public TrainingSchedule schedule() {
        return schedule;
    }

    /** The lifetimes of the schedule's transient tensors (with this device's workspace sizes). */
    public Liveness liveness() {
        return liveness;
    }

    /** The arena plan in planned mode; null in eager mode. */
    public ArenaPlan plan() {
        return plan;
    }

    /** The footprint of this trainer's schedule, its arena aligned as the device's views must be. */
    public Footprint footprint() {
        return Footprint.of(schedule, device.viewAlignment());
    }

    /**
     * The device memory a step peaks at, as planned: parameters, optimizer state and step scalars,
     * plus the arena (planned mode) or the most transient bytes alive at one step (eager mode).
     */
    public long plannedBytes() {
        return schedule.persistentBytes() + (plan != null ? plan.arenaBytes() : liveness.peakBytes());
    }

    /** The allocator of this trainer's device memory (children {@code weights}, {@code optimizer}, {@code activations}). */
    public Allocator allocator() {
        return allocator;
    }

    public Model model() {
        return model;
    }

    public Device device() {
        return device;
    }

    public TrainingOptions options() {
        return options;
    }

    /** Training steps run so far. */
    public long stepCount() {
        return steps;
    }

    /** Releases the kernels and every device buffer. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        kernels.values().forEach(Kernel::close);
        views.values().forEach(DeviceBuffer::close);
        if (arena != null) {
            arena.close();
        }
        persistent.values().forEach(DeviceBuffer::close);
        if (lossHost != null) {
            lossHost.close();
        }
        if (scalarsHost != null) {
            scalarsHost.close();
        }
        allocator.close();
        host.close();
    }
}
