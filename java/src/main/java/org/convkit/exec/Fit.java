package org.convkit.exec;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.convkit.data.Dataset;
import org.convkit.memory.Allocator;
import org.convkit.ops.SoftmaxCrossEntropy;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * The training loop: epochs of mini-batches through a {@link Trainer}, each epoch followed by an
 * evaluation on held-out data. The batches of an epoch are consecutive slices of the training
 * set, {@code count / batch} of them, the same each epoch ({@link org.convkit.data.Digits}
 * interleaves its classes, so every batch holds them all).
 */
public final class Fit {
    /**
     * One epoch.
     *
     * @param epoch 1 for the first
     * @param steps training steps so far
     * @param trainLoss mean loss over the epoch's steps (each before its update)
     * @param trainAccuracy fraction right over the epoch's steps
     * @param testLoss mean loss on the test set after the epoch
     * @param testAccuracy fraction right on the test set after the epoch
     * @param imagesPerSecond training images per second of wall time (uploads, steps, loss downloads)
     * @param peakBytes the trainer's device memory peak over the epoch
     */
    public record Epoch(int epoch, long steps, double trainLoss, double trainAccuracy, double testLoss, double testAccuracy,
            double imagesPerSecond, long peakBytes) {
    }

    private Fit() {
    }

    /** Trains for {@code epochs}, calling {@code progress} after each; the epochs in order. */
    public static List<Epoch> run(Trainer trainer, Dataset train, Dataset test, int epochs, Consumer<Epoch> progress) {
        if (epochs < 1) {
            throw new IllegalArgumentException("fit: epochs must be 1 or more, got " + epochs);
        }
        Shape in = trainer.model().inputShape();
        int batch = in.dim(0);
        if (train.count() < batch || test.count() < batch) {
            throw new IllegalArgumentException("fit: the training (" + train.count() + ") and test (" + test.count()
                    + ") sets must hold at least one batch of " + batch);
        }
        Shape labelsShape = SoftmaxCrossEntropy.labelsShape(trainer.model().graph().layer(trainer.schedule().logits())
                .outputShape());
        Allocator host = Allocator.host().child("fit");
        List<Epoch> out = new ArrayList<>();
        try (Tensor images = Tensor.allocate(in, DType.F32, host, "batch images");
                Tensor labels = Tensor.allocate(labelsShape, DType.F32, host, "batch labels")) {
            for (int e = 1; e <= epochs; e++) {
                int steps = train.count() / batch;
                double loss = 0;
                long correct = 0;
                long positions = 0;
                long peak = 0;
                long start = System.nanoTime();
                for (int s = 0; s < steps; s++) {
                    train.batch(s * batch, images, labels);
                    StepResult r = trainer.step(images, labels);
                    loss += r.loss();
                    correct += r.correct();
                    positions += r.positions();
                    peak = Math.max(peak, r.peakBytes());
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                double testLoss = 0;
                long testCorrect = 0;
                long testPositions = 0;
                int testSteps = test.count() / batch;
                for (int s = 0; s < testSteps; s++) {
                    test.batch(s * batch, images, labels);
                    StepResult r = trainer.evaluate(images, labels);
                    testLoss += r.loss();
                    testCorrect += r.correct();
                    testPositions += r.positions();
                }
                Epoch epoch = new Epoch(e, trainer.stepCount(), loss / steps, (double) correct / positions,
                        testLoss / testSteps, (double) testCorrect / testPositions, (double) steps * batch / seconds, peak);
                out.add(epoch);
                progress.accept(epoch);
            }
        } finally {
            host.close();
        }
        return out;
    }
}
