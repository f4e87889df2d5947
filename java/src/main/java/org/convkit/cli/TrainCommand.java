package org.convkit.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.data.Digits;
import org.convkit.exec.ExecutionMode;
import org.convkit.exec.Fit;
import org.convkit.exec.Trainer;
import org.convkit.exec.TrainingOptions;
import org.convkit.graph.DigitNet;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.memory.Bytes;
import org.convkit.memory.Checkpointing;
import org.convkit.memory.Optimizer;

/**
 * {@code convkit train}: trains {@link DigitNet} on procedurally drawn digits ({@link Digits}) on
 * one device and prints a line per epoch (loss, accuracy on the training batches and on held-out
 * images, images per second, device memory). Exit status 1 when the final test accuracy is below
 * {@code --target}.
 */
final class TrainCommand {
    static final List<String> OPTIONS = List.of("device", "epochs", "batch", "optimizer", "lr", "mode", "checkpoint",
            "train", "test", "seed", "target");

    private final Options options;

    TrainCommand(Options options) {
        this.options = options;
    }

    int run(PrintStream out) {
        int epochs = options.intValue("epochs", 3, 1, 1000);
        int batch = options.intValue("batch", 32, 1, 4096);
        int trainCount = options.intValue("train", 4000, 1, 1 << 22);
        int testCount = options.intValue("test", 1000, 1, 1 << 22);
        long seed = options.longValue("seed", 1);
        int segments = options.intValue("checkpoint", 1, 1, 64);
        Optimizer optimizer = parse(() -> Optimizer.parse(options.get("optimizer", "adam")));
        float lr = parseFloat("lr", optimizer == Optimizer.ADAM ? 0.01f : 0.05f);
        float target = parseFloat("target", 0.9f);
        ExecutionMode mode = switch (options.get("mode", "planned")) {
            case "eager" -> ExecutionMode.EAGER;
            case "planned" -> ExecutionMode.PLANNED;
            default -> throw new Options.UsageException("--mode must be eager or planned");
        };
        if (trainCount < batch || testCount < batch) {
            throw new Options.UsageException("--train and --test must be at least --batch (" + batch + ")");
        }
        TrainingOptions to;
        try {
            to = TrainingOptions.adam(lr).withOptimizer(optimizer).withMode(mode)
                    .withCheckpointing(Checkpointing.segments(segments));
        } catch (IllegalArgumentException e) {
            throw new Options.UsageException(e.getMessage());
        }
        Backends backends = Backends.system();
        String device;
        try {
            device = backends.find(options.get("device", "best")).name();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new Options.UsageException(e.getMessage());
        }
        Allocator host = Allocator.host().child("train");
        try (Device d = backends.open(device);
                Model model = DigitNet.build(batch, seed);
                Digits train = Digits.generate(trainCount, seed + 1, host);
                Digits test = Digits.generate(testCount, seed + 2, host);
                Trainer trainer = Trainer.open(model, d, to)) {
            out.printf(Locale.ROOT, "convkit train: %s (%,d parameters) on %s, %,d training and %,d test digits of %dx%d "
                    + "(%d classes, chance %.0f%%)%n", model.name(), model.parameterCount(), d.name(), trainCount, testCount,
                    Digits.SIZE, Digits.SIZE, Digits.CLASSES, 100.0 / Digits.CLASSES);
            out.printf(Locale.ROOT, "batch %d, %s, learning rate %s, %s mode, checkpointing %s; device memory planned %s%n%n",
                    batch, optimizer.id(), lr, mode.name().toLowerCase(Locale.ROOT), to.checkpointing().describe(),
                    Bytes.format(trainer.plannedBytes()));
            out.println("epoch  steps   loss  train acc  test loss  test acc  images/s  device peak");
            List<Fit.Epoch> result = Fit.run(trainer, train, test, epochs, e -> out.printf(Locale.ROOT,
                    "%5d  %5d  %5.3f  %8.1f%%  %9.3f  %7.1f%%  %8.0f  %s%n", e.epoch(), e.steps(), e.trainLoss(),
                    100 * e.trainAccuracy(), e.testLoss(), 100 * e.testAccuracy(), e.imagesPerSecond(),
                    Bytes.format(e.peakBytes())));
            Fit.Epoch last = result.get(result.size() - 1);
            boolean reached = last.testAccuracy() >= target;
            out.printf(Locale.ROOT, "%ntest accuracy %.1f%% after %d steps (chance %.0f%%, target %.0f%%): %s%n",
                    100 * last.testAccuracy(), last.steps(), 100.0 / Digits.CLASSES, 100 * target,
                    reached ? "reached" : "NOT reached");
            return reached ? 0 : 1;
        } finally {
            host.close();
        }
    }

    private float parseFloat(String name, float fallback) {
        String v = options.get(name, null);
        if (v == null) {
            return fallback;
        }
        try {
            return Float.parseFloat(v.trim());
        } catch (NumberFormatException e) {
            throw new Options.UsageException("--" + name + " must be a number, got '" + v + "'");
        }
    }

    private static <T> T parse(java.util.function.Supplier<T> s) {
        try {
            return s.get();
        } catch (IllegalArgumentException e) {
            throw new Options.UsageException(e.getMessage());
        }
    }
}
