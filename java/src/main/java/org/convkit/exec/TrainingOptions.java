package org.convkit.exec;

import java.util.Objects;

import org.convkit.memory.Checkpointing;
import org.convkit.memory.Optimizer;
import org.convkit.memory.TrainingSchedule;
import org.convkit.ops.train.AdamUpdate;
import org.convkit.ops.train.SgdUpdate;
import org.convkit.ops.train.StepScalars;

/**
 * How a {@link Trainer} trains: the optimizer and its hyper-parameters, how activation memory is
 * managed ({@link ExecutionMode}), gradient checkpointing, and an optional device-memory budget.
 *
 * @param optimizer SGD, SGD with momentum, or Adam
 * @param learningRate the step size
 * @param momentum SGD's momentum (0.9 usual; ignored otherwise)
 * @param beta1 Adam's first-moment decay (0.9)
 * @param beta2 Adam's second-moment decay (0.999)
 * @param epsilon Adam's epsilon (1e-8)
 * @param mode eager (each tensor allocated when written, freed after its last reader) or planned (one arena)
 * @param checkpointing which activations are recomputed instead of kept
 * @param budgetBytes the most device memory the trainer may hold ({@link Long#MAX_VALUE}: no limit)
 */
public record TrainingOptions(Optimizer optimizer, float learningRate, float momentum, float beta1, float beta2,
        float epsilon, ExecutionMode mode, Checkpointing checkpointing, long budgetBytes) {

    public TrainingOptions {
        Objects.requireNonNull(optimizer, "training options: optimizer");
        Objects.requireNonNull(mode, "training options: mode");
        Objects.requireNonNull(checkpointing, "training options: checkpointing");
        if (!(learningRate > 0f) || Float.isInfinite(learningRate)) {
            throw new IllegalArgumentException("training options: learning rate must be positive and finite, got "
                    + learningRate);
        }
        if (budgetBytes <= 0) {
            throw new IllegalArgumentException("training options: budget must be positive, got " + budgetBytes);
        }
        updates(optimizer, momentum, beta1, beta2, epsilon);
    }

    /** Plain SGD, eager, no checkpointing. */
    public static TrainingOptions sgd(float learningRate) {
        return new TrainingOptions(Optimizer.SGD, learningRate, 0f, 0.9f, 0.999f, 1e-8f, ExecutionMode.EAGER,
                Checkpointing.none(), Long.MAX_VALUE);
    }

    /** SGD with momentum 0.9, eager, no checkpointing. */
    public static TrainingOptions momentum(float learningRate) {
        return new TrainingOptions(Optimizer.MOMENTUM, learningRate, 0.9f, 0.9f, 0.999f, 1e-8f, ExecutionMode.EAGER,
                Checkpointing.none(), Long.MAX_VALUE);
    }

    /** Adam with the paper's defaults, eager, no checkpointing. */
    public static TrainingOptions adam(float learningRate) {
        return new TrainingOptions(Optimizer.ADAM, learningRate, 0f, 0.9f, 0.999f, 1e-8f, ExecutionMode.EAGER,
                Checkpointing.none(), Long.MAX_VALUE);
    }

    /** These options with {@code optimizer} at its usual settings (momentum 0.9; Adam's defaults). */
    public TrainingOptions withOptimizer(Optimizer o) {
        return new TrainingOptions(o, learningRate, o == Optimizer.MOMENTUM ? 0.9f : 0f, beta1, beta2, epsilon, mode,
                checkpointing, budgetBytes);
    }

    public TrainingOptions withLearningRate(float lr) {
        return new TrainingOptions(optimizer, lr, momentum, beta1, beta2, epsilon, mode, checkpointing, budgetBytes);
    }

    /** SGD's momentum (the optimizer must be {@link Optimizer#MOMENTUM}). */
    public TrainingOptions withMomentum(float mu) {
        return new TrainingOptions(optimizer, learningRate, mu, beta1, beta2, epsilon, mode, checkpointing, budgetBytes);
    }

    public TrainingOptions withMode(ExecutionMode m) {
        return new TrainingOptions(optimizer, learningRate, momentum, beta1, beta2, epsilon, m, checkpointing, budgetBytes);
    }

    public TrainingOptions withCheckpointing(Checkpointing c) {
        return new TrainingOptions(optimizer, learningRate, momentum, beta1, beta2, epsilon, mode, c, budgetBytes);
    }

    public TrainingOptions withBudget(long bytes) {
        return new TrainingOptions(optimizer, learningRate, momentum, beta1, beta2, epsilon, mode, checkpointing, bytes);
    }

    /** The update ops these options run. */
    public TrainingSchedule.Updates updates() {
        return updates(optimizer, momentum, beta1, beta2, epsilon);
    }

    private static TrainingSchedule.Updates updates(Optimizer o, float momentum, float beta1, float beta2, float epsilon) {
        return switch (o) {
            case SGD -> new TrainingSchedule.Updates(o, SgdUpdate.plain(), null);
            case MOMENTUM -> {
                if (!(momentum > 0f)) {
                    throw new IllegalArgumentException("training options: momentum must be in (0, 1) for SGD with momentum, "
                            + "got " + momentum);
                }
                yield new TrainingSchedule.Updates(o, SgdUpdate.withMomentum(momentum), null);
            }
            case ADAM -> new TrainingSchedule.Updates(o, null, AdamUpdate.of(beta1, beta2, epsilon));
        };
    }

    /** The step scalars of step {@code t} (1 for the first). */
    float[] scalars(long t) {
        return optimizer == Optimizer.ADAM ? StepScalars.adam(learningRate, beta1, beta2, t) : StepScalars.sgd(learningRate);
    }
}
