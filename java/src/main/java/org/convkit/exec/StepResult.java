package org.convkit.exec;

/**
 * The outcome of one {@link Trainer#step} or {@link Trainer#evaluate}.
 *
 * @param device the device that ran it
 * @param loss the mean loss over the batch's positions, before the update
 * @param correct positions whose label was the first class of largest logit
 * @param positions positions of the batch (images for a classifier, pixels for per-pixel labels)
 * @param images the batch size
 * @param nanos wall time from the first upload to the loss download (a step includes the updates)
 * @param peakBytes the trainer's device memory peak during it: parameters, optimizer state, step
 *     scalars and the activations, gradients and workspaces of the step
 */
public record StepResult(String device, double loss, long correct, long positions, int images, long nanos,
        long peakBytes) {
    /** The fraction of positions classified right. */
    public double accuracy() {
        return (double) correct / positions;
    }

    /** Images per second. */
    public double imagesPerSecond() {
        return images * 1e9 / nanos;
    }
}
