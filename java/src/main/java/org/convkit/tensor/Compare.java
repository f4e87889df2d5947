package org.convkit.tensor;

/** Comparisons between tensors of the same shape. */
public final class Compare {
    private Compare() {
    }

    /**
     * {@code max_i |a_i - ref_i| / max_i |ref_i|}: the largest difference relative to the
     * reference's largest magnitude (the absolute difference when the reference is all zeros).
     * NaN in either tensor gives NaN, so that a NaN never passes a tolerance check.
     */
    public static double maxRelativeDifference(Tensor a, Tensor ref) {
        if (!a.shape().equals(ref.shape())) {
            throw new IllegalArgumentException("compare: shapes differ: " + a.shape() + " vs reference " + ref.shape());
        }
        double maxDiff = 0;
        double maxRef = 0;
        long n = a.elementCount();
        for (long i = 0; i < n; i++) {
            double x = a.get(i);
            double r = ref.get(i);
            if (Double.isNaN(x) || Double.isNaN(r)) {
                return Double.NaN;
            }
            maxDiff = Math.max(maxDiff, Math.abs(x - r));
            maxRef = Math.max(maxRef, Math.abs(r));
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }
}
