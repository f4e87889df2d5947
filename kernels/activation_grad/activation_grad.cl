/*
 * activation_grad: input gradients of the standalone activations (and PReLU), float32, any shape
 * (flat); the backward pass of activation/activation.cl.
 *
 *   activation_grad: dx[i] = dy[i] * f'_kind(v[i]), v the forward output (relu, sigmoid, tanh,
 *                    hard_sigmoid, clip, leaky_relu with alpha > 0) or input (leaky_relu
 *                    otherwise), as org.convkit.ops.grad.ActivationGrad decides:
 *                      relu          v > 0 ? dy : 0
 *                      leaky_relu    v < 0 ? alpha * dy : dy
 *                      sigmoid       dy * v * (1 - v)
 *                      tanh          dy * (1 - v * v)
 *                      hard_sigmoid  0 < v < 1 ? alpha * dy : 0
 *                      clip          alpha < v < beta ? dy : 0      (alpha = min, beta = max)
 *   prelu_grad:      dx[i] = x[i] < 0 ? slope[j(i)] * dy[i] : dy[i], the slope index j as in
 *                    prelu_fwd (groups D0..D7, strides S0..S7, ND used), computed per element.
 *
 * Grids: 1-D, roundup(count, ACTIVATION_GRAD_WG), one work-item per element (coalesced); the
 * kind is uniform, so no work-group diverges on it. A NaN in dy propagates wherever the
 * derivative is not 0. Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef ACTIVATION_GRAD_WG
#define ACTIVATION_GRAD_WG 256
#endif

/* dy times the derivative of activation `kind` where its output (or input) is v. */
inline float activation_grad_of(float g, float v, int kind, float alpha, float beta)
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

__attribute__((reqd_work_group_size(ACTIVATION_GRAD_WG, 1, 1)))
__kernel void activation_grad(__global const float* restrict dy,
                              __global const float* restrict v,
                              __global float* restrict dx,
                              const int count, const int kind,
                              const float alpha, const float beta)
{
    const int i = get_global_id(0);
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

__attribute__((reqd_work_group_size(ACTIVATION_GRAD_WG, 1, 1)))
__kernel void prelu_grad(__global const float* restrict dy,
                         __global const float* restrict x,
                         __global const float* restrict slope,
                         __global float* restrict dx,
                         const int count, const int ND,
                         const int D0, const int D1, const int D2, const int D3,
                         const int D4, const int D5, const int D6, const int D7,
                         const int S0, const int S1, const int S2, const int S3,
                         const int S4, const int S5, const int S6, const int S7)
{
    const int i = get_global_id(0);
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
