/*
 * activation_grad: input gradients of the standalone activations (and PReLU), float32, any shape
 * (flat); the CUDA twin of activation_grad.cl (same entries, arguments, grids and results; see
 * common/cuda_compat.h).
 *
 *   activation_grad: dx[i] = dy[i] * f'_kind(v[i]), v the forward output or input (see the .cl).
 *   prelu_grad:      dx[i] = x[i] < 0 ? slope[j(i)] * dy[i] : dy[i].
 * Grids: 1-D, blocks of ACTIVATION_GRAD_WG, one thread per element.
 * Built with (the host launches with exactly these): ACTIVATION_GRAD_WG 256.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef ACTIVATION_GRAD_WG
#define ACTIVATION_GRAD_WG 256
#endif

CK_FUNC float activation_grad_of(float g, float v, int kind, float alpha, float beta)
{
    switch (kind) {
    case CK_ACT_RELU:
        return v > 0.0f ? g : 0.0f;
    case CK_ACT_LEAKY_RELU:
        return v < 0.0f ? alpha * g : g;
    case CK_ACT_SIGMOID:
        return g * (v * (1.0f - v));
    case CK_ACT_TANH:
        return g * (1.0f - v * v);
    case CK_ACT_HARD_SIGMOID:
        return (v > 0.0f && v < 1.0f) ? alpha * g : 0.0f;
    case CK_ACT_CLIP:
        return (v > alpha && v < beta) ? g : 0.0f;
    default:
        return g;
    }
}

extern "C" __global__ void __launch_bounds__(ACTIVATION_GRAD_WG)
activation_grad(const float* __restrict__ dy, const float* __restrict__ v, float* __restrict__ dx,
                const int count, const int kind, const float alpha, const float beta)
{
    const int i = ck_global_id_x();
    if (i >= count) {
        return;
    }
    dx[i] = activation_grad_of(dy[i], v[i], kind, alpha, beta);
}

/* One group of the slope index: the element's digit in this group times its stride. */
#define PRELU_GRAD_GROUP(k)            \
    if (ND > k) {                      \
        j += (rest % D##k) * S##k;     \
        rest /= D##k;                  \
    }

extern "C" __global__ void __launch_bounds__(ACTIVATION_GRAD_WG)
prelu_grad(const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ slope,
           float* __restrict__ dx, const int count, const int ND,
           const int D0, const int D1, const int D2, const int D3,
           const int D4, const int D5, const int D6, const int D7,
           const int S0, const int S1, const int S2, const int S3,
           const int S4, const int S5, const int S6, const int S7)
{
    const int i = ck_global_id_x();
    if (i >= count) {
        return;
    }
    int rest = i;
    int j = 0;
    PRELU_GRAD_GROUP(0)
    PRELU_GRAD_GROUP(1)
    PRELU_GRAD_GROUP(2)
    PRELU_GRAD_GROUP(3)
    PRELU_GRAD_GROUP(4)
    PRELU_GRAD_GROUP(5)
    PRELU_GRAD_GROUP(6)
    PRELU_GRAD_GROUP(7)
    const float g = dy[i];
    dx[i] = x[i] < 0.0f ? slope[j] * g : g;
}
