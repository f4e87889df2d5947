/*
 * optimizer: one optimizer step on one parameter tensor, in place, float32, flat.
 *
 *   sgd_update:          w[i] -= lr * g[i]
 *   sgd_momentum_update: v[i] = mu * v[i] + g[i];  w[i] -= lr * v[i]
 *   adam_update:         m[i] = b1 * m[i] + (1 - b1) * g[i];  v[i] = b2 * v[i] + (1 - b2) * g[i]^2
 *                        w[i] -= lr * (m[i] * c1) / (sqrt(v[i] * c2) + eps)
 *   running_average:     y[c] = (1 - mom) * y[c] + mom * k * stats[row * C + c]
 *                        (a batch normalization's running mean or variance from the batch's [2, C]
 *                        statistics; org.convkit.ops.train.RunningAverage)
 *
 * g is the gradient (read only); w the parameter, v / m the optimizer state, read and written by
 * the work-item of their element only, so an update needs no synchronisation. s holds the step
 * scalars (org.convkit.ops.train.StepScalars): s[0] = lr, s[1] = c1 = 1 / (1 - b1^t),
 * s[2] = c2 = 1 / (1 - b2^t), uploaded by the host before each step so that the kernels are
 * built and their arguments set once; mu, b1, b2, eps are fixed arguments.
 * Grid: 1-D, roundup(count, OPTIMIZER_WG), one work-item per element (coalesced).
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#ifndef OPTIMIZER_WG
#define OPTIMIZER_WG 256
#endif

__attribute__((reqd_work_group_size(OPTIMIZER_WG, 1, 1)))
__kernel void sgd_update(__global const float* restrict g,
                         __global const float* restrict s,
                         __global float* restrict w,
                         const int count)
{
    const int i = get_global_id(0);
    if (i >= count) {
        return;
    }
    w[i] -= s[0] * g[i];
}

__attribute__((reqd_work_group_size(OPTIMIZER_WG, 1, 1)))
__kernel void sgd_momentum_update(__global const float* restrict g,
                                  __global float* restrict v,
                                  __global const float* restrict s,
                                  __global float* restrict w,
                                  const int count, const float momentum)
{
    const int i = get_global_id(0);
    if (i >= count) {
        return;
    }
    const float vi = momentum * v[i] + g[i];
    v[i] = vi;
    w[i] -= s[0] * vi;
}

__attribute__((reqd_work_group_size(OPTIMIZER_WG, 1, 1)))
__kernel void adam_update(__global const float* restrict g,
                          __global float* restrict m,
                          __global float* restrict v,
                          __global const float* restrict s,
                          __global float* restrict w,
                          const int count, const float beta1, const float beta2, const float epsilon)
{
    const int i = get_global_id(0);
    if (i >= count) {
        return;
    }
    const float gi = g[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    const float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] -= s[0] * (mi * s[1]) / (sqrt(vi * s[2]) + epsilon);
}

__attribute__((reqd_work_group_size(OPTIMIZER_WG, 1, 1)))
__kernel void running_average(__global const float* restrict stats,
                              __global float* restrict y,
                              const int channels, const int row,
                              const float momentum, const float correction)
{
    const int c = get_global_id(0);
    if (c >= channels) {
        return;
    }
    y[c] = (1.0f - momentum) * y[c] + momentum * (correction * stats[row * channels + c]);
}
