package org.convkit.exec;

import java.util.List;

import org.convkit.tensor.Tensor;

/**
 * The outcome of one {@link Session#run}: the output on the host, which device computed it,
 * per-layer records, the wall time, and the peak of live activation bytes on the device.
 * Closing it frees any captured layer outputs, and the output unless it is the caller's
 * ({@link Session#run(Tensor, Tensor, RunOptions)}).
 *
 * @param device the device that ran every layer, e.g. {@code opencl:0}
 * @param output the model's output (owned by this result unless {@code ownsOutput} is false)
 * @param layers per-layer records in run order
 * @param nanos wall time from input upload to output download
 * @param peakActivationBytes highest device bytes of live activations during the run
 * @param ownsOutput whether closing this result closes {@code output} (false when the caller
 *        supplied the output tensor)
 */
public record InferenceResult(String device, Tensor output, List<LayerRun> layers, long nanos,
        long peakActivationBytes, boolean ownsOutput) implements AutoCloseable {
    public InferenceResult {
        layers = List.copyOf(layers);
    }

    /** A result that owns its output. */
    public InferenceResult(String device, Tensor output, List<LayerRun> layers, long nanos, long peakActivationBytes) {
        this(device, output, layers, nanos, peakActivationBytes, true);
    }

    @Override
    public void close() {
        for (LayerRun r : layers) {
            if (r.output() != null && r.output() != output) {
                r.output().close();
            }
        }
        if (ownsOutput) {
            output.close();
        }
    }
}
