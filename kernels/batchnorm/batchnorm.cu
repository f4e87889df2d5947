/*
 * batchnorm: batch normalization, inference form (ONNX BatchNormalization, training_mode 0); the
 * CUDA twin of batchnorm.cl (same entries, arguments, grids and results; common/cuda_compat.h).
 *
 *   y[n,c,s] = fma(x[n,c,s] - mean[c], scale[c] / sqrt(var[c] + EPS), bias[c])
 *
 * Layout: x and y [N, C, INNER] row-major; scale, bias, mean, var [C].
 * Entries:
 * - batchnorm_planes: grid (G, N * C) blocks of (BATCHNORM_WG, 1), G chosen by the host for about
 *   BATCHNORM_PER_ITEM elements per thread; each thread computes its channel's factor once and
 *   strides through its plane by the grid width (coalesced).
 * - batchnorm_flat, for small INNER: a 1-D grid-stride loop over all elements, the channel from
 *   the flat index.
 * Built with (the host launches with exactly these): BATCHNORM_WG 256 (BATCHNORM_PER_ITEM 8 only
 * sizes the host's grid).
 * NaN propagates. Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef BATCHNORM_WG
#define BATCHNORM_WG 256
#endif
#ifndef BATCHNORM_PER_ITEM
#define BATCHNORM_PER_ITEM 8
#endif

extern "C" __global__ void __launch_bounds__(BATCHNORM_WG)
batchnorm_planes(const float* __restrict__ x, const float* __restrict__ scale,
                 const float* __restrict__ bias, const float* __restrict__ mean,
                 const float* __restrict__ var, float* __restrict__ y,
                 const int C, const int INNER, const float EPS)
{
    const int plane = ck_global_id_y();
    const int c = plane % C;
    const float f = scale[c] / sqrtf(var[c] + EPS);
    const float m = mean[c];
    const float b = bias[c];
    const float* xp = x + plane * INNER;
    float* yp = y + plane * INNER;
    const int stride = ck_global_size_x();
    for (int s = ck_global_id_x(); s < INNER; s += stride) {
        yp[s] = fmaf(xp[s] - m, f, b);
    }
}

extern "C" __global__ void __launch_bounds__(BATCHNORM_WG)
batchnorm_flat(const float* __restrict__ x, const float* __restrict__ scale,
               const float* __restrict__ bias, const float* __restrict__ mean,
               const float* __restrict__ var, float* __restrict__ y,
               const int C, const int INNER, const int COUNT, const float EPS)
{
    const int stride = ck_global_size_x();
    for (int i = ck_global_id_x(); i < COUNT; i += stride) {
        const int c = (i / INNER) % C;
        y[i] = fmaf(x[i] - mean[c], scale[c] / sqrtf(var[c] + EPS), bias[c]);
    }
}
