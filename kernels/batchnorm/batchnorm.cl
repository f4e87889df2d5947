/*
 * batchnorm: batch normalization, inference form (ONNX BatchNormalization, training_mode 0).
 *
 *   y[n,c,s] = (x[n,c,s] - mean[c]) * (scale[c] / sqrt(var[c] + EPS)) + bias[c]
 *
 * Layout: x and y [N, C, INNER] row-major, INNER = the product of the spatial dimensions (1 for a
 * rank-2 [N, C] input); scale, bias, mean, var [C].
 * Entries:
 * - batchnorm_planes, when INNER fills at least a work-group: grid (G * BATCHNORM_WG, N * C), the
 *   host choosing G so that each work-item takes about BATCHNORM_PER_ITEM elements of its plane,
 *   strided by the grid width (neighbouring work-items, neighbouring elements). A work-item
 *   computes its channel's factor scale / sqrt(var + EPS) once for all its elements.
 * - batchnorm_flat, for small INNER (rank 2, or tiny spatial sizes), where most of a plane's
 *   work-group would idle: one dimension over all elements (grid-stride, about
 *   BATCHNORM_PER_ITEM each), the channel derived from the flat index.
 * Several elements per work-item because a work-group costs a fixed dispatch overhead where
 * work-items are emulated (PoCL on CPUs); GPUs still get hundreds of work-groups at CNN sizes.
 * NaN propagates (x NaN gives y NaN). Indices are 32-bit: the host refuses tensors of 2^31
 * elements or more.
 */
#include "common/convkit.h"

#ifndef BATCHNORM_WG
#define BATCHNORM_WG 256
#endif
/* The host sizes the grid from it; the kernels loop over whatever the grid leaves. */
#ifndef BATCHNORM_PER_ITEM
#define BATCHNORM_PER_ITEM 8
#endif

__attribute__((reqd_work_group_size(BATCHNORM_WG, 1, 1)))
__kernel void batchnorm_planes(__global const float* restrict x,
                               __global const float* restrict scale,
                               __global const float* restrict bias,
                               __global const float* restrict mean,
                               __global const float* restrict var,
                               __global float* restrict y,
                               const int C, const int INNER, const float EPS)
{
    const int plane = get_global_id(1);
    const int c = plane % C;
    const float f = scale[c] / sqrt(var[c] + EPS);
    const float m = mean[c];
    const float b = bias[c];
    __global const float* xp = x + plane * INNER;
    __global float* yp = y + plane * INNER;
    for (int s = get_global_id(0); s < INNER; s += get_global_size(0)) {
        yp[s] = fma(xp[s] - m, f, b);
    }
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
    for (int i = get_global_id(0); i < COUNT; i += get_global_size(0)) {
        const int c = (i / INNER) % C;
        y[i] = fma(x[i] - mean[c], scale[c] / sqrt(var[c] + EPS), bias[c]);
    }
}
