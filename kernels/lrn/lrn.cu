/*
 * lrn: local response normalization across channels, float32; the CUDA twin of lrn.cl (same
 * entry, arguments, grid and results; see common/cuda_compat.h for the launch contract).
 *
 *   y[n,c,s] = x[n,c,s] / (bias + scale * sum_{k = max(0, c-before)}^{min(C-1, c+after)} x[n,k,s]^2)^beta
 *
 * (before, after, scale) come resolved from the host (org.convkit.ops.Lrn.Geometry: ONNX size or
 * TensorFlow depth_radius); bias > 0 and scale >= 0, so the base of the power is positive.
 * Layout: x, y [N, C, S], S the product of the spatial dimensions.
 * Grid: (ceil(S / LRN_WG), C, N) blocks of (LRN_WG, 1, 1); one thread per output element, a warp
 * on 32 neighbouring pixels of one channel plane (coalesced). Each sums its window directly, the
 * squares as the .cl's fmaf chain (a sliding window would cancel catastrophically; see the .cl).
 * Power: the .cl's exact shortcuts, chosen by a branch uniform over the grid: beta 0.75 as
 * rsqrt(b) * sqrt(rsqrt(b)), 0.5 as rsqrt(b), 1 as a division, any other through powf.
 * Built with (the host launches with exactly these): LRN_WG 64.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef LRN_WG
#define LRN_WG 64
#endif

extern "C" __global__ void __launch_bounds__(LRN_WG)
lrn_fwd(const float* __restrict__ x, float* __restrict__ y,
        const int C, const int S, const int before, const int after,
        const float bias, const float scale, const float beta)
{
    const int s = ck_global_id_x();
    const int c = ck_global_id_y();
    const int n = ck_global_id_z();
    if (s >= S) {
        return;
    }
    const float* xp = x + n * C * S + s;
    const int lo = max(0, c - before);
    const int hi = min(C - 1, c + after);
    float sum = 0.0f;
    for (int k = lo; k <= hi; ++k) {
        const float v = xp[k * S];
        sum = fmaf(v, v, sum);
    }
    const float v = xp[c * S];
    const float base = bias + scale * sum;
    float r;
    if (beta == 0.75f) {
        const float t = rsqrtf(base);
        r = v * (t * sqrtf(t));
    } else if (beta == 0.5f) {
        r = v * rsqrtf(base);
    } else if (beta == 1.0f) {
        r = v / base;
    } else {
        r = v / powf(base, beta);
    }
    y[(n * C + c) * S + s] = r;
}
