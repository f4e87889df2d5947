/*
 * batchnorm: batch normalization, inference form (ONNX BatchNormalization, training_mode 0).
 *
 *   y[n,c,s] = (x[n,c,s] - mean[c]) * (scale[c] / sqrt(var[c] + EPS)) + bias[c]
 *
 * Layout: x and y [N, C, INNER] row-major, INNER = the product of the spatial dimensions (1 for a
 * rank-2 [N, C] input); scale, bias, mean, var [C].
 * Grid: (roundup(INNER, BATCHNORM_WG), N * C) when INNER is large enough to fill a work-group
 * (entry batchnorm_planes): every work-item of a group has the same channel, whose factor is
 * computed once per work-item from values all of them read (cached), and the row of a plane is
 * contiguous. For small INNER (rank 2, or tiny spatial sizes) most of such a group would idle,
 * so entry batchnorm_flat runs one dimension over all elements and derives the channel from the
 * flat index.
 * NaN propagates (x NaN gives y NaN). Indices are 32-bit: the host refuses tensors of 2^31
 * elements or more.
 */
#include "common/convkit.h"

#ifndef BATCHNORM_WG
#define BATCHNORM_WG 256
#endif

CK_FUNC float batchnorm_one(float x, int c, __global const float* scale, __global const float* bias,
                            __global const float* mean, __global const float* var, float eps)
{
    const float f = scale[c] / sqrt(var[c] + eps);
    return fma(x - mean[c], f, bias[c]);
}

__attribute__((reqd_work_group_size(BATCHNORM_WG, 1, 1)))
__kernel void batchnorm_planes(__global const float* restrict x,
                               __global const float* restrict scale,
                               __global const float* restrict bias,
                               __global const float* restrict mean,
                               __global const float* restrict var,
                               __global float* restrict y,
                               const int C, const int INNER, const float EPS)
{
    const int s = get_global_id(0);
    const int plane = get_global_id(1);
    if (s >= INNER) {
        return;
    }
    const int c = plane % C;
    const int i = plane * INNER + s;
    y[i] = batchnorm_one(x[i], c, scale, bias, mean, var, EPS);
}

__attribute__((reqd_work_group_size(BATCHNORM_WG, 1, 1)))
__kernel void batchnorm_flat(__global const float* restrict x,
                             __global const float* restrict scale,
                             __global const float* restrict bias,
                             __global const float* restrict mean,
                             __global const float* restrict var,
                             __global float* restrict y,
                             const int C, const int INNER, const int COUNT, const float EPS)
{
    const int i = get_global_id(0);
    if (i >= COUNT) {
        return;
    }
    const int c = (i / INNER) % C;
    y[i] = batchnorm_one(x[i], c, scale, bias, mean, var, EPS);
}
