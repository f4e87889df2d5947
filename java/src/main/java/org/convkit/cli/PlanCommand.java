package org.convkit.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.exec.ExecutionMode;
import org.convkit.exec.InferenceResult;
import org.convkit.exec.RunOptions;
import org.convkit.exec.Session;
import org.convkit.graph.Graph;
import org.convkit.graph.Model;
import org.convkit.graph.SeedNet;
import org.convkit.graph.Segmentation;
import org.convkit.graph.zoo.Zoo;
import org.convkit.memory.Allocator;
import org.convkit.exec.Trainer;
import org.convkit.exec.TrainingOptions;
import org.convkit.memory.Bytes;
import org.convkit.memory.Checkpointing;
import org.convkit.memory.Footprint;
import org.convkit.memory.Json;
import org.convkit.memory.OomAdvisor;
import org.convkit.memory.Optimizer;
import org.convkit.memory.TrainingSchedule;
import org.convkit.tensor.DType;
import org.convkit.tensor.Tensor;

/**
 * {@code convkit plan}: the footprint report of a model at a batch size and dtype: parameters,
 * every activation, inference (planned, lower bound, naive, and measured on the device in eager
 * and planned modes), one training step (textbook, lower bound, planned, and the difference line
 * by line), and, with a budget, the five out-of-memory remedies. As text or as JSON.
 */
final class PlanCommand {
    static final List<String> OPTIONS = List.of("model", "batch", "device", "budget", "dtype", "optimizer", "for", "json",
            "measure", "measure-training", "checkpoint");
    /** Options that may stand alone. */
    static final java.util.Set<String> FLAGS = java.util.Set.of("json", "measure", "measure-training");
    /** Arena alignment when no device is asked (the largest common OpenCL base-address alignment). */
    static final long DEFAULT_ALIGNMENT = 256;

    private final Options options;

    PlanCommand(Options options) {
        this.options = options;
    }

    /** Measured peaks of one inference in each mode (null when not measured), and the device. */
    private record Measured(String device, Long eager, Long planned, String why) {
    }

    /**
     * One real training step in each mode on the device (null when not measured, with why): the
     * trainer's footprint (its schedule, with the device's workspace sizes and view alignment) and
     * its allocator's peaks; the same with checkpointing when that recomputes anything.
     */
    private record TrainingMeasured(Footprint footprint, Long eager, Long planned, Footprint checkpointed,
            Long checkpointedEager, Long checkpointedPlanned, String why) {
    }

    int run(PrintStream out) {
        String modelName = options.get("model", "seed");
        int batch = options.intValue("batch", 1, 1, 1 << 20);
        DType dtype = parse(() -> DType.parse(options.get("dtype", "f32")));
        Optimizer optimizer = parse(() -> Optimizer.parse(options.get("optimizer", "momentum")));
        OomAdvisor.Target target = switch (options.get("for", "training")) {
            case "training" -> OomAdvisor.Target.TRAINING;
            case "inference" -> OomAdvisor.Target.INFERENCE;
            default -> throw new Options.UsageException("--for must be training or inference");
        };
        Long budget = options.get("budget", null) == null ? null : parse(() -> Bytes.parse(options.get("budget", "")));
        boolean json = flag("json", false);
        boolean measure = flag("measure", true);
        boolean measureTraining = measure && flag("measure-training", true);
        Graph graph = graph(modelName, batch);
        long alignment = DEFAULT_ALIGNMENT;

        Measured measured;
        TrainingMeasured trained;
        Checkpointing checkpointing;
        if (!measure) {
            measured = new Measured(null, null, null, "not measured (--measure false)");
            trained = new TrainingMeasured(null, null, null, null, null, null, "not measured (--measure false)");
            checkpointing = checkpointing(graph, dtype, optimizer, alignment);
        } else {
            Backends backends = Backends.system();
            String device;
            try {
                device = backends.find(options.get("device", "best")).name();
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw new Options.UsageException(e.getMessage());
            }
            try (Device d = backends.open(device)) {
                alignment = d.viewAlignment();
                checkpointing = checkpointing(graph, dtype, optimizer, alignment);
                measured = dtype == DType.F32 ? measure(d, graph)
                        : new Measured(device, null, null, "not measured: convkit's kernels compute in f32");
                trained = dtype != DType.F32
                        ? new TrainingMeasured(null, null, null, null, null, null, "not measured: convkit's kernels compute in f32")
                        : !measureTraining
                        ? new TrainingMeasured(null, null, null, null, null, null, "not measured (--measure-training false)")
                        : measureTraining(d, graph, optimizer, checkpointing);
            }
        }
        Footprint f = trained.footprint() != null ? trained.footprint() : Footprint.of(graph, dtype, optimizer, alignment);
        Footprint checkpointed = trained.checkpointed() != null ? trained.checkpointed()
                : Footprint.of(graph, dtype, optimizer, alignment, checkpointing);
        List<OomAdvisor.Remedy> remedies = budget == null ? List.of()
                : new OomAdvisor(graph, dtype, optimizer, alignment, target).advise(budget);
        if (json) {
            out.println(json(f, measured, trained, checkpointed, budget, target, remedies));
        } else {
            text(out, f, measured, trained, checkpointed, budget, target, remedies);
        }
        return 0;
    }

    /** {@code --checkpoint}: a number of segments, or {@code best} (default), the advisor's choice. */
    private Checkpointing checkpointing(Graph graph, DType dtype, Optimizer optimizer, long alignment) {
        String v = options.get("checkpoint", "best");
        if (v.equals("best")) {
            return new OomAdvisor(graph, dtype, optimizer, alignment, OomAdvisor.Target.TRAINING).bestCheckpointing();
        }
        try {
            return Checkpointing.segments(Integer.parseInt(v));
        } catch (IllegalArgumentException e) {
            throw new Options.UsageException("--checkpoint must be a number of segments (1 or more) or best, got '" + v + "'");
        }
    }

    /**
     * Runs one training step in each mode with random weights, input and labels, and, when
     * checkpointing recomputes anything, two more with it: the trainers' footprints and their
     * allocators' peaks.
     */
    private static TrainingMeasured measureTraining(Device d, Graph graph, Optimizer optimizer, Checkpointing checkpointing) {
        Allocator host = Allocator.host().child("plan training");
        try (Model model = Model.withRandomParameters(graph, 1);
                Tensor input = Tensor.allocate(graph.inputShape(), DType.F32, host, "input").fillUniform(2, -1f, 1f)) {
            TrainingOptions base = TrainingOptions.momentum(0.01f).withOptimizer(optimizer);
            long[] plain = trainOnce(d, model, input, base, host);
            Footprint f = Footprint.of(graph, DType.F32, optimizer, d.viewAlignment());
            try (Trainer t = Trainer.open(model, d, base)) {
                f = t.footprint();
            }
            TrainingOptions withCheckpoints = base.withCheckpointing(checkpointing);
            Footprint c;
            try (Trainer t = Trainer.open(model, d, withCheckpoints)) {
                c = t.footprint();
            }
            if (c.recomputeFlops() == 0) {
                return new TrainingMeasured(f, plain[0], plain[1], c, null, null, "trainer allocator peak, one step");
            }
            long[] checked = trainOnce(d, model, input, withCheckpoints, host);
            return new TrainingMeasured(f, plain[0], plain[1], c, checked[0], checked[1], "trainer allocator peak, one step");
        } catch (IllegalArgumentException | org.convkit.backend.UnsupportedOpException e) {
            return new TrainingMeasured(null, null, null, null, null, null, "not measured: " + e.getMessage());
        } finally {
            host.close();
        }
    }

    /** The allocator peaks of one training step in eager then planned mode. */
    private static long[] trainOnce(Device d, Model model, Tensor input, TrainingOptions options, Allocator host) {
        long[] peaks = new long[2];
        ExecutionMode[] modes = {ExecutionMode.EAGER, ExecutionMode.PLANNED};
        for (int i = 0; i < 2; i++) {
            try (Trainer t = Trainer.open(model, d, options.withMode(modes[i]));
                    Tensor labels = Tensor.allocate(t.schedule().tensors().get(TrainingSchedule.LABELS).shape(), DType.F32,
                            host, "labels")) {
                int classes = model.graph().layer(t.schedule().logits()).outputShape().dim(1);
                for (long p = 0; p < labels.elementCount(); p++) {
                    labels.set(p, (float) (p * 7 % classes));
                }
                t.step(input, labels);
                peaks[i] = t.allocator().peakBytes();
            }
        }
        return peaks;
    }

    private boolean flag(String name, boolean fallback) {
        String v = options.get(name, Boolean.toString(fallback));
        return switch (v) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new Options.UsageException("--" + name + " must be true or false, got '" + v + "'");
        };
    }

    private static <T> T parse(java.util.function.Supplier<T> s) {
        try {
            return s.get();
        } catch (IllegalArgumentException e) {
            throw new Options.UsageException(e.getMessage());
        }
    }

    /** The seed network, or a zoo model by name. */
    static Graph graph(String name, int batch) {
        if (name.equals("seed")) {
            return SeedNet.graph(batch);
        }
        if (name.equals("fcn")) {
            return Segmentation.fcn(batch);
        }
        if (name.endsWith(".onnx")) {
            java.nio.file.Path file = java.nio.file.Path.of(name);
            if (!java.nio.file.Files.isRegularFile(file)) {
                throw new Options.UsageException("no such ONNX file '" + name + "'");
            }
            try {
                return org.convkit.onnx.OnnxImport.graph(file, batch);
            } catch (org.convkit.ConvkitException e) {
                throw new Options.UsageException(e.getMessage());
            }
        }
        if (!Zoo.names().contains(name)) {
            throw new Options.UsageException("unknown model '" + name + "' (known: seed, fcn, " + String.join(", ", Zoo.names())
                    + ", or an .onnx file)");
        }
        return Zoo.find(name).graph(batch);
    }

    /** Runs the model once in each mode with random weights; the session allocators' peaks. */
    private static Measured measure(Device d, Graph graph) {
        Allocator host = Allocator.host().child("plan");
        try (Model model = Model.withRandomParameters(graph, 1);
                Tensor input = Tensor.allocate(graph.inputShape(), DType.F32, host, "input").fillUniform(2, -1f, 1f)) {
            long[] peaks = new long[2];
            ExecutionMode[] modes = {ExecutionMode.EAGER, ExecutionMode.PLANNED};
            for (int i = 0; i < 2; i++) {
                try (Session s = Session.open(model, d, modes[i]);
                        InferenceResult r = s.run(input, RunOptions.DEFAULT.withHostAllocator(host))) {
                    peaks[i] = s.allocator().peakBytes();
                }
            }
            return new Measured(d.name(), peaks[0], peaks[1], "session allocator peak, one inference");
        } finally {
            host.close();
        }
    }

    private static void text(PrintStream out, Footprint f, Measured m, TrainingMeasured t, Footprint c, Long budget,
            OomAdvisor.Target target, List<OomAdvisor.Remedy> remedies) {
        Graph g = f.graph();
        out.printf(Locale.ROOT, "convkit plan: %s, batch %d, %s%s (arena offsets aligned to %d B)%n%n", g.name(), f.batch(),
                f.dtype().id(), m.device() == null ? "" : ", measured on " + m.device(), f.alignment());
        out.printf(Locale.ROOT, "parameters  %,d = %s%n", g.parameterCount(), Bytes.format(f.parameterBytes()));
        out.println("activations");
        for (Footprint.Line l : f.activations()) {
            out.printf(Locale.ROOT, "  %-32s %s%n", l.what(), Bytes.format(l.bytes()));
        }
        out.println();
        out.println("inference");
        row(out, "planned (parameters + arena)", f.inferencePlanned());
        row(out, "lower bound (busiest step)", f.inferenceLowerBound());
        row(out, "naive (keep everything)", f.inferenceNaive());
        if (m.eager() != null) {
            row(out, "measured, eager", m.eager(), m.eager() == f.inferenceLowerBound() ? "= lower bound" : "DIFFERS from lower bound");
            row(out, "measured, planned", m.planned(), m.planned() == f.inferencePlanned() ? "= planned" : "DIFFERS from planned");
        } else {
            out.println("  measured: " + m.why());
        }
        if (m.device() != null) {
            out.println("  driver counter: none on " + m.device() + " (OpenCL and the CPU expose no used-memory counter)");
        }
        out.println();
        out.println("training step (" + f.optimizer().id() + ", softmax cross-entropy on " + f.schedule().logits() + ")");
        row(out, "textbook (params + input + activations)", f.trainingTextbook());
        row(out, "lower bound (busiest step)", f.trainingLowerBound());
        row(out, "planned (params + state + arena)", f.trainingPlanned());
        if (t.eager() != null) {
            row(out, "measured, eager", t.eager(), t.eager() == f.trainingLowerBound() ? "= lower bound"
                    : "DIFFERS from lower bound");
            row(out, "measured, planned", t.planned(), t.planned() == f.trainingPlanned() ? "= planned"
                    : "DIFFERS from planned");
        } else {
            out.println("  measured: " + t.why());
        }
        out.println("  from the textbook figure to the plan:");
        for (Footprint.Line l : f.trainingDifference()) {
            out.printf(Locale.ROOT, "    %s %,15d B  %s%n", l.bytes() < 0 ? "-" : "+", Math.abs(l.bytes()), l.what());
        }
        out.println();
        out.println("gradient checkpointing (" + c.schedule().checkpointing().describe() + ")");
        if (c.recomputeFlops() == 0) {
            List<Integer> cuts = c.schedule().cuts();
            boolean single = !cuts.isEmpty() && cuts.get(0) == 1 && cuts.get(cuts.size() - 1) == cuts.size();
            out.println("  recomputes nothing: " + (cuts.isEmpty() ? "no place where one tensor crosses between layers"
                    : single ? "each segment before the last is a single layer, whose output is the checkpoint"
                    : "no gradient term reads an activation between the checkpoints") + "; the footprint is the plan above");
        } else {
            out.println("  checkpoints: " + String.join(", ", c.schedule().checkpoints()));
            row(out, "lower bound (busiest step)", c.trainingLowerBound());
            row(out, "planned (params + state + arena)", c.trainingPlanned(), String.format(Locale.ROOT, "%+,d B vs no "
                    + "checkpointing", c.trainingPlanned() - f.trainingPlanned()));
            if (t.checkpointedEager() != null) {
                row(out, "measured, eager", t.checkpointedEager(), t.checkpointedEager() == c.trainingLowerBound()
                        ? "= lower bound" : "DIFFERS from lower bound");
                row(out, "measured, planned", t.checkpointedPlanned(), t.checkpointedPlanned() == c.trainingPlanned()
                        ? "= planned" : "DIFFERS from planned");
            }
            out.printf(Locale.ROOT, "  extra compute: %,d FLOP recomputed (%.1f%% of a step's %,d FLOP without)%n",
                    c.recomputeFlops(), 100.0 * c.recomputeFlops() / f.trainingFlops(), f.trainingFlops());
        }
        if (g.name().equals("seed") && f.batch() == 1 && f.dtype() == DType.F32) {
            out.println();
            out.println("note: the figure 18,613,600 B in circulation counts conv2 as 9,000,000 B; conv2 is "
                    + "4 x 50 x 75 x 200 = 3,000,000 B, so the optimal inference is 6,000,000 + 3,000,000 + 3,613,600 = 12,613,600 B.");
        }
        if (budget != null) {
            long need = target == OomAdvisor.Target.TRAINING ? f.trainingPlanned() : f.inferencePlanned();
            out.println();
            out.printf(Locale.ROOT, "budget %s for %s: %s%n", Bytes.format(budget), target.name().toLowerCase(Locale.ROOT),
                    need <= budget ? "fits (" + Bytes.format(need) + ")" : "does NOT fit (" + Bytes.format(need) + ")");
            Table table = new Table("#", "remedy", "change", "bytes", "fits");
            for (OomAdvisor.Remedy r : remedies) {
                table.row(Integer.toString(r.number()), r.remedy(), r.change(), String.format(Locale.ROOT, "%,d", r.bytes()),
                        r.fits() ? "yes" : "no");
            }
            table.print(out);
        }
    }

    private static void row(PrintStream out, String what, long bytes) {
        row(out, what, bytes, "");
    }

    private static void row(PrintStream out, String what, long bytes, String note) {
        out.printf(Locale.ROOT, "  %-40s %,15d B  %11s  %s%n", what, bytes, Bytes.binary(bytes), note);
    }

    private static String json(Footprint f, Measured m, TrainingMeasured t, Footprint c, Long budget,
            OomAdvisor.Target target, List<OomAdvisor.Remedy> remedies) {
        Json j = new Json().beginObject();
        j.field("model", f.graph().name()).field("batch", f.batch()).field("dtype", f.dtype().id())
                .field("device", m.device()).field("alignment", f.alignment())
                .field("params", f.graph().parameterCount()).field("paramBytes", f.parameterBytes());
        j.beginArray("activations");
        for (Footprint.Line l : f.activations()) {
            j.beginObject().field("tensor", l.what()).field("bytes", l.bytes()).endObject();
        }
        j.endArray();
        j.beginObject("inference").field("planned", f.inferencePlanned()).field("lowerBound", f.inferenceLowerBound())
                .field("naive", f.inferenceNaive()).field("measured", m.planned()).field("measuredEager", m.eager())
                .endObject();
        j.beginObject("training").field("optimizer", f.optimizer().id()).field("textbook", f.trainingTextbook())
                .field("lowerBound", f.trainingLowerBound()).field("planned", f.trainingPlanned())
                .field("measured", t.planned()).field("measuredEager", t.eager()).field("flops", f.trainingFlops());
        j.beginArray("difference");
        for (Footprint.Line l : f.trainingDifference()) {
            j.beginObject().field("what", l.what()).field("bytes", l.bytes()).endObject();
        }
        j.endArray();
        j.beginObject("checkpointing").field("option", c.schedule().checkpointing().describe());
        j.beginArray("checkpoints");
        for (String cp : c.schedule().checkpoints()) {
            j.element(cp);
        }
        j.endArray().field("lowerBound", c.trainingLowerBound()).field("planned", c.trainingPlanned())
                .field("measured", t.checkpointedPlanned()).field("measuredEager", t.checkpointedEager())
                .field("recomputeFlops", c.recomputeFlops()).endObject();
        j.endObject();
        j.field("budget", budget).field("budgetFor", target.name().toLowerCase(Locale.ROOT));
        j.beginArray("remedies");
        for (OomAdvisor.Remedy r : remedies) {
            j.beginObject().field("number", r.number()).field("remedy", r.remedy()).field("change", r.change())
                    .field("bytes", r.bytes()).field("fits", r.fits()).endObject();
        }
        j.endArray();
        return j.endObject().toString();
    }
}
