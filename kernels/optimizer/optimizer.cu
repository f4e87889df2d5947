/*
 * optimizer: one optimizer step on one parameter tensor, in place, float32, flat; the CUDA twin
 * of optimizer.cl (same entries, arguments, grids and results; see common/cuda_compat.h).
 *
 *   sgd_update:          w[i] -= lr * g[i]
 *   sgd_momentum_update: v[i] = mu * v[i] + g[i];  w[i] -= lr * v[i]
 *   adam_update:         m[i] = b1 * m[i] + (1 - b1) * g[i];  v[i] = b2 * v[i] + (1 - b2) * g[i]^2
 *                        w[i] -= lr * (m[i] * c1) / (sqrt(v[i] * c2) + eps)
 *   running_average:     y[c] = (1 - mom) * y[c] + mom * k * stats[row * C + c]
 *
 * g read only; w, v, m read and written by their element's thread only. s: the step scalars
 * (s[0] = lr, s[1] = c1, s[2] = c2; org.convkit.ops.train.StepScalars).
 * Grid: 1-D, blocks of OPTIMIZER_WG threads, one thread per element.
 * Built with (the host launches with exactly these): OPTIMIZER_WG 256.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef OPTIMIZER_WG
#define OPTIMIZER_WG 256
#endif

extern "C" __global__ void __launch_bounds__(OPTIMIZER_WG)
sgd_update(const float* __restrict__ g, const float* __restrict__ s, float* __restrict__ w, const int count)
{
    const int i = ck_global_id_x();
    if (i >= count) {
        return;
    }
    w[i] -= s[0] * g[i];
}

extern "C" __global__ void __launch_bounds__(OPTIMIZER_WG)
sgd_momentum_update(const float* __restrict__ g, float* __restrict__ v, const float* __restrict__ s,
                    float* __restrict__ w, const int count, const float momentum)
{
    const int i = ck_global_id_x();
    if (i >= count) {
        return;
    }
    const float vi = momentum * v[i] + g[i];
    v[i] = vi;
    w[i] -= s[0] * vi;
}

extern "C" __global__ void __launch_bounds__(OPTIMIZER_WG)
adam_update(const float* __restrict__ g, float* __restrict__ m, float* __restrict__ v, const float* __restrict__ s,
            float* __restrict__ w, const int count, const float beta1, const float beta2, const float epsilon)
{
    const int i = ck_global_id_x();
    if (i >= count) {
        return;
    }
    const float gi = g[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    const float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] -= s[0] * (mi * s[1]) / (sqrtf(vi * s[2]) + epsilon);
}

extern "C" __global__ void __launch_bounds__(OPTIMIZER_WG)
running_average(const float* __restrict__ stats, float* __restrict__ y, const int channels, const int row,
                const float momentum, const float correction)
{
    const int c = ck_global_id_x();
    if (c >= channels) {
        return;
    }
    y[c] = (1.0f - momentum) * y[c] + momentum * (correction * stats[row * channels + c]);
}
