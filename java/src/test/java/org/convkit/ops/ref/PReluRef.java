package org.convkit.ops.ref;

import org.convkit.tensor.Shape;
import org.convkit.testing.OpHarness;

/**
 * The PReLU reference: {@code y = x < 0 ? slope * x : x} with the slope broadcast by the ONNX
 * rule, written out per element: the input index is split into coordinates, the slope's shape is
 * aligned with the input's last dimensions, and a slope dimension of 1 reads coordinate 0. Error
 * scale {@code max(|y|, 1e-30)}.
 */
public final class PReluRef {
    private PReluRef() {
    }

    public static OpHarness.Expected forward(Shape input, Shape slopeShape, float[] x, float[] slope) {
        int[] xd = input.dims();
        int[] sd = slopeShape.dims();
        int offset = xd.length - sd.length;
        double[] y = new double[x.length];
        int[] coord = new int[xd.length];
        for (int i = 0; i < x.length; i++) {
            int rest = i;
            for (int a = xd.length - 1; a >= 0; a--) {
                coord[a] = rest % xd[a];
                rest /= xd[a];
            }
            int j = 0;
            for (int a = 0; a < sd.length; a++) {
                j = j * sd[a] + (sd[a] == 1 ? 0 : coord[offset + a]);
            }
            double v = x[i];
            y[i] = v < 0 ? (double) slope[j] * v : v;
        }
        return new OpHarness.Expected(y, OpHarness.magnitudeScale(y, ActivationRef.FLOOR));
    }
}
