package org.convkit.exec;

import java.util.List;

import org.convkit.tensor.Tensor;

/**
 * The outcome of one {@link Session#run}: the output on the host, which device computed it,
 * per-layer records, the wall time, and the peak of live activation bytes on the device.
 * Closing it frees the output and any captured layer outputs.
 *
 * @param device the device that ran every layer, e.g. {@code opencl:0}
 * @param output the model's output (owned by this result)
 * @param layers per-layer records in run order
 * @param nanos wall time from input upload to output download
 * @param peakActivationBytes highest device bytes of live activations during the run
 */
public record InferenceResult(String device, Tensor output, List<LayerRun> layers, long nanos,
        long peakActivationBytes) implements AutoCloseable {
    public InferenceResult {
        layers = List.copyOf(layers);
    }

    @Override
    public void close() {
        for (LayerRun r : layers) {
            if (r.output() != null && r.output() != output) {
                r.output().close();
            }
        }
        output.close();
    }
}
