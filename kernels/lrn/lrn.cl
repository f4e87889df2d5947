/*
 * lrn: local response normalization across channels, float32.
 *
 *   y[n,c,s] = x[n,c,s] / (bias + scale * sum_{k = max(0, c-before)}^{min(C-1, c+after)} x[n,k,s]^2)^beta
 *
 * Both conventions reduce to (before, after, scale), resolved by the host
 * (org.convkit.ops.Lrn.Geometry): ONNX size n gives before = floor((n-1)/2),
 * after = ceil((n-1)/2), scale = alpha / n; TensorFlow depth_radius r gives before = after = r,
 * scale = alpha. The host guarantees bias > 0 and scale >= 0, so the base of pow is positive.
 * Layout: x, y [N, C, S] with S the product of the spatial dimensions (H*W for NCHW).
 * Grid: (roundup(S, LRN_WG), C, N); one work-item per output element, neighbouring work-items
 * on neighbouring pixels of one channel plane (coalesced). Each sums its window directly: a
 * sliding window along the channels would read each input once instead of (before + after + 1)
 * times, but subtracting the square that leaves the window cancels catastrophically when one
 * channel is much larger than the rest, and the repeated reads hit the cache (a window of AlexNet
 * channel planes is 5 * 55 * 55 * 4 B = 60 KB). Correctness first; the sliding variant, if it
 * comes, must be validated against this one.
 * Power: pow is by far the most expensive step (on PoCL it is about 100x a division), so the
 * betas in common use take mathematically exact shortcuts: 0.75 (AlexNet, GoogLeNet, ZFNet; ONNX's default) as
 * rsqrt(b) * sqrt(rsqrt(b)), 0.5 (TensorFlow's default) as rsqrt(b), 1 as a division; any other
 * beta goes through pow. The consistency sweep covers each path.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef LRN_WG
#define LRN_WG 64
#endif

__attribute__((reqd_work_group_size(LRN_WG, 1, 1)))
__kernel void lrn_fwd(__global const float* restrict x,
                      __global float* restrict y,
                      const int C, const int S,
                      const int before, const int after,
                      const float bias, const float scale, const float beta)
{
    const int s = get_global_id(0);
    const int c = get_global_id(1);
    const int n = get_global_id(2);
    if (s >= S) {
        return;
    }
    __global const float* xp = x + n * C * S + s;
    const int lo = max(0, c - before);
    const int hi = min(C - 1, c + after);
    float sum = 0.0f;
    for (int k = lo; k <= hi; ++k) {
        const float v = xp[k * S];
        sum = fma(v, v, sum);
    }
    const float v = xp[c * S];
    const float base = bias + scale * sum;
    float r;
    if (beta == 0.75f) {
        const float t = rsqrt(base);
        r = v * (t * sqrt(t));
    } else if (beta == 0.5f) {
        r = v * rsqrt(base);
    } else if (beta == 1.0f) {
        r = v / base;
    } else {
        r = v / pow(base, beta);
    }
    y[(n * C + c) * S + s] = r;
}
