package org.convkit.exec;

import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * One layer of one run.
 *
 * @param layer the layer's name
 * @param shape its output shape
 * @param nanos its time including the wait for the device, or -1 when not timed
 * @param output its output on the host when captured, else null (owned by the result)
 */
public record LayerRun(String layer, Shape shape, long nanos, Tensor output) {
}
