/*
 * batchnorm_grad: batch normalization's training form and the gradients of both forms, float32,
 * [N, C, S] (S the product of the dimensions after the channels); org.convkit.ops.BatchNormTraining,
 * org.convkit.ops.grad.BatchNormGrad and org.convkit.ops.grad.BatchStatistics.
 *
 *   batchnorm_stats:       out[c] = mean of x[:, c, :], out[C + c] = mean of (x - mean)^2 (biased
 *                          variance, two passes: no cancellation). One work-group per channel.
 *   batchnorm_train_fwd:   y = scale[c] * (x - mean[c]) / sqrt(var[c] + EPS) + bias[c], the
 *                          statistics from batchnorm_stats in ws. One work-item per element.
 *   batchnorm_grad_sums:   out[OUT + c] = sum dy[:, c, :], out[OUT + C + c] = sum dy * (x - mean[MEAN + c]).
 *                          One work-group per channel.
 *   batchnorm_grad_data:   the training form's dx = scale / sigma * (dy - sum(dy) / M - xhat *
 *                          sum(dy * xhat) / M), ws = [mean, var, sum dy, sum dy (x - mean)].
 *   batchnorm_grad_data_frozen: the inference form's dx = dy * scale / sqrt(var + EPS).
 *   batchnorm_grad_scale:  dscale[c] = sums[SUMS + C + c] / sqrt(var[VAR + c] + EPS). One work-item
 *                          per channel.
 *
 * Per-channel reductions: each work-item sums every BATCHNORM_GRAD_WG-th element (n, s) of the
 * channel in order, then a fixed halving tree in local memory: deterministic, error <=
 * (N*S / WG + log2 WG) unit roundoffs times the sum of |terms|. Buffers that are read and written
 * by one launch (the workspace, through offsets) are not restrict. Indices are 32-bit: the host
 * refuses tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef BATCHNORM_GRAD_WG
#define BATCHNORM_GRAD_WG 256
#endif

/* Tree-sums part[0..WG) in place; every work-item must call it; the total ends in part[0]. */
inline void batchnorm_grad_tree(__local float* part)
{
    const int lid = get_local_id(0);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int step = BATCHNORM_GRAD_WG / 2; step > 0; step >>= 1) {
        if (lid < step) {
            part[lid] += part[lid + step];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

__attribute__((reqd_work_group_size(BATCHNORM_GRAD_WG, 1, 1)))
__kernel void batchnorm_stats(__global const float* restrict x,
                              __global float* out,
                              const int N, const int C, const int S)
{
    __local float part[BATCHNORM_GRAD_WG];
    const int c = get_group_id(0);
    const int lid = get_local_id(0);
    const int M = N * S;
    float acc = 0.0f;
    for (int e = lid; e < M; e += BATCHNORM_GRAD_WG) {
        acc += x[((e / S) * C + c) * S + e % S];
    }
    part[lid] = acc;
    batchnorm_grad_tree(part);
    const float mean = part[0] / (float) M;
    barrier(CLK_LOCAL_MEM_FENCE);
    float sq = 0.0f;
    for (int e = lid; e < M; e += BATCHNORM_GRAD_WG) {
        const float d = x[((e / S) * C + c) * S + e % S] - mean;
        sq += d * d;
    }
    part[lid] = sq;
    batchnorm_grad_tree(part);
    if (lid == 0) {
        out[c] = mean;
        out[C + c] = part[0] / (float) M;
    }
}

__attribute__((reqd_work_group_size(BATCHNORM_GRAD_WG, 1, 1)))
__kernel void batchnorm_train_fwd(__global const float* restrict x,
                                  __global const float* restrict scale,
                                  __global const float* restrict bias,
                                  __global const float* restrict ws,
                                  __global float* restrict y,
                                  const int N, const int C, const int S, const float EPS)
{
    const int i = get_global_id(0);
    if (i >= N * C * S) {
        return;
    }
    const int c = (i / S) % C;
    const float inv = 1.0f / sqrt(ws[C + c] + EPS);
    y[i] = scale[c] * ((x[i] - ws[c]) * inv) + bias[c];
}

__attribute__((reqd_work_group_size(BATCHNORM_GRAD_WG, 1, 1)))
__kernel void batchnorm_grad_sums(__global const float* restrict dy,
                                  __global const float* restrict x,
                                  __global const float* mean,
                                  __global float* out,
                                  const int MEAN, const int OUT,
                                  const int N, const int C, const int S)
{
    __local float part[BATCHNORM_GRAD_WG];
    const int c = get_group_id(0);
    const int lid = get_local_id(0);
    const int M = N * S;
    const float m = mean[MEAN + c];
    float sum = 0.0f;
    float dot = 0.0f;
    for (int e = lid; e < M; e += BATCHNORM_GRAD_WG) {
        const int i = ((e / S) * C + c) * S + e % S;
        const float g = dy[i];
        sum += g;
        dot += g * (x[i] - m);
    }
    part[lid] = sum;
    batchnorm_grad_tree(part);
    const float total = part[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    part[lid] = dot;
    batchnorm_grad_tree(part);
    if (lid == 0) {
        out[OUT + c] = total;
        out[OUT + C + c] = part[0];
    }
}

__attribute__((reqd_work_group_size(BATCHNORM_GRAD_WG, 1, 1)))
__kernel void batchnorm_grad_data(__global const float* restrict dy,
                                  __global const float* restrict x,
                                  __global const float* restrict scale,
                                  __global const float* restrict ws,
                                  __global float* restrict dx,
                                  const int N, const int C, const int S, const float EPS)
{
    const int i = get_global_id(0);
    if (i >= N * C * S) {
        return;
    }
    const int c = (i / S) % C;
    const float count = (float) (N * S);
    const float inv = 1.0f / sqrt(ws[C + c] + EPS);
    const float xhat = (x[i] - ws[c]) * inv;
    const float meanDy = ws[2 * C + c] / count;
    const float meanDyXhat = ws[3 * C + c] * inv / count;
    dx[i] = scale[c] * inv * (dy[i] - meanDy - xhat * meanDyXhat);
}

__attribute__((reqd_work_group_size(BATCHNORM_GRAD_WG, 1, 1)))
__kernel void batchnorm_grad_data_frozen(__global const float* restrict dy,
                                         __global const float* restrict scale,
                                         __global const float* restrict var,
                                         __global float* restrict dx,
                                         const int N, const int C, const int S, const float EPS)
{
    const int i = get_global_id(0);
    if (i >= N * C * S) {
        return;
    }
    const int c = (i / S) % C;
    dx[i] = dy[i] * (scale[c] / sqrt(var[c] + EPS));
}

__attribute__((reqd_work_group_size(BATCHNORM_GRAD_WG, 1, 1)))
__kernel void batchnorm_grad_scale(__global const float* sums,
                                   __global const float* var,
                                   __global float* restrict out,
                                   const int SUMS, const int VAR, const int C, const float EPS)
{
    const int c = get_global_id(0);
    if (c >= C) {
        return;
    }
    out[c] = sums[SUMS + C + c] / sqrt(var[VAR + c] + EPS);
}
