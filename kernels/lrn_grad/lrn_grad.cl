/*
 * lrn_grad: the input gradient of local response normalization across channels, float32,
 * [N, C, S] (S the product of the dimensions after the channels); org.convkit.ops.grad.LrnGrad.
 * Window of channel c: [c - BEFORE, c + AFTER] clipped to [0, C) (the host resolves ONNX's size
 * or TensorFlow's depth radius into BEFORE / AFTER, and alpha into SCALE). With
 * D[c] = BIAS + SCALE * sum_{c' in window(c)} x[c']^2 at the same (n, s):
 *
 *   dx[c] = dy[c] * D[c]^-BETA - 2 * BETA * SCALE * x[c] * sum_{j = c-AFTER..c+BEFORE} dy[j] x[j] D[j]^(-BETA-1)
 *
 * (j runs over the channels whose window holds c). D is recomputed from x, so the output is not
 * read. Grid: 1-D, roundup(N*C*S, LRN_GRAD_WG), one work-item per element, a gather
 * (deterministic). Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef LRN_GRAD_WG
#define LRN_GRAD_WG 256
#endif

/* D at channel j: BIAS + SCALE * the sum of squares over j's clipped window; p points at channel 0. */
inline float lrn_grad_base(__global const float* restrict p, int j, int C, int S, int BEFORE, int AFTER,
                           float SCALE, float BIAS)
{
    const int lo = max(0, j - BEFORE);
    const int hi = min(C - 1, j + AFTER);
    float sum = 0.0f;
    for (int k = lo; k <= hi; ++k) {
        const float v = p[k * S];
        sum += v * v;
    }
    return BIAS + SCALE * sum;
}

__attribute__((reqd_work_group_size(LRN_GRAD_WG, 1, 1)))
__kernel void lrn_grad(__global const float* restrict dy,
                       __global const float* restrict x,
                       __global float* restrict dx,
                       const int N, const int C, const int S,
                       const int BEFORE, const int AFTER,
                       const float SCALE, const float BIAS, const float BETA)
{
    const int i = get_global_id(0);
    if (i >= N * C * S) {
        return;
    }
    const int s = i % S;
    const int c = (i / S) % C;
    const int n = i / (S * C);
    __global const float* xp = x + n * C * S + s;
    __global const float* gp = dy + n * C * S + s;
    const float own = pow(lrn_grad_base(xp, c, C, S, BEFORE, AFTER, SCALE, BIAS), -BETA);
    float acc = 0.0f;
    const int lo = max(0, c - AFTER);
    const int hi = min(C - 1, c + BEFORE);
    for (int j = lo; j <= hi; ++j) {
        const float d = lrn_grad_base(xp, j, C, S, BEFORE, AFTER, SCALE, BIAS);
        acc += gp[j * S] * xp[j * S] * (pow(d, -BETA) / d);
    }
    dx[i] = gp[c * S] * own - 2.0f * BETA * SCALE * xp[c * S] * acc;
}
