/*
 * lrn_grad: the input gradient of local response normalization across channels, float32,
 * [N, C, S]; the CUDA twin of lrn_grad.cl (same entry, arguments, grid and results; see
 * common/cuda_compat.h): dx[c] = dy[c] D[c]^-BETA - 2 BETA SCALE x[c] sum_j dy[j] x[j] D[j]^(-BETA-1)
 * over the channels j whose window [j - BEFORE, j + AFTER] holds c, D recomputed from x. A thread
 * per element. Built with (the host launches with exactly these): LRN_GRAD_WG 256.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef LRN_GRAD_WG
#define LRN_GRAD_WG 256
#endif

/* D at channel j: BIAS + SCALE * the sum of squares over j's clipped window; p points at channel 0. */
CK_FUNC float lrn_grad_base(const float* __restrict__ p, int j, int C, int S, int BEFORE, int AFTER,
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

extern "C" __global__ void __launch_bounds__(LRN_GRAD_WG)
lrn_grad(const float* __restrict__ dy,
         const float* __restrict__ x,
         float* __restrict__ dx,
         const int N, const int C, const int S,
         const int BEFORE, const int AFTER,
         const float SCALE, const float BIAS, const float BETA)
{
    const int i = ck_global_id_x();
    if (i >= N * C * S) {
        return;
    }
    const int s = i % S;
    const int c = (i / S) % C;
    const int n = i / (S * C);
    const float* xp = x + n * C * S + s;
    const float* gp = dy + n * C * S + s;
    const float own = powf(lrn_grad_base(xp, c, C, S, BEFORE, AFTER, SCALE, BIAS), -BETA);
    float acc = 0.0f;
    const int lo = max(0, c - AFTER);
    const int hi = min(C - 1, c + BEFORE);
    for (int j = lo; j <= hi; ++j) {
        const float d = lrn_grad_base(xp, j, C, S, BEFORE, AFTER, SCALE, BIAS);
        acc += gp[j * S] * xp[j * S] * (powf(d, -BETA) / d);
    }
    dx[i] = gp[c * S] * own - 2.0f * BETA * SCALE * xp[c * S] * acc;
}
