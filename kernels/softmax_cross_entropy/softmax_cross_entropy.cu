/*
 * softmax_cross_entropy: the training loss of a classifier and its gradient, float32; the CUDA
 * twin of softmax_cross_entropy.cl (same entries, arguments, grids and results; see
 * common/cuda_compat.h).
 *
 *   softmax_cross_entropy_fwd: out[r]        = log(sum_k exp(x[r,k] - m)) - (x[r,label] - m),  m = max_k x[r,k]
 *                              out[rows + r] = 1 if label is the first k of largest x[r,k], else 0
 *   softmax_cross_entropy_bwd: dx[r,k]       = (exp(x[r,k] - m) / sum - [k == label]) * scale
 *
 * Layout: x (and dx) as [outer, K, inner]; position r = o * inner + i; labels[r] a class index
 * stored as a float; out is [2, rows]. A label that is not an integer in [0, K) gives NaN.
 * Grid: 1-D, blocks of SCE_WG threads, one thread per position.
 * Built with (the host launches with exactly these): SCE_WG 64.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef SCE_WG
#define SCE_WG 64
#endif

/* The class a label names, or -1 when it is not an integer in [0, K) (NaN fails every test). */
__device__ __forceinline__ int sce_class(const float label, const int K)
{
    return (label >= 0.0f && label < (float) K && label == floorf(label)) ? (int) label : -1;
}

extern "C" __global__ void __launch_bounds__(SCE_WG)
softmax_cross_entropy_fwd(const float* __restrict__ x, const float* __restrict__ labels, float* __restrict__ out,
                          const int rows, const int K, const int inner)
{
    const int r = ck_global_id_x();
    if (r >= rows) {
        return;
    }
    const int o = r / inner;
    const int base = o * K * inner + (r - o * inner);
    const int label = sce_class(labels[r], K);
    float m = x[base];
    int best = 0;
    for (int k = 1; k < K; ++k) {
        const float v = x[base + k * inner];
        if (v > m) {
            m = v;
            best = k;
        }
    }
    float sum = 0.0f;
    for (int k = 0; k < K; ++k) {
        sum += expf(x[base + k * inner] - m);
    }
    const float loss = label < 0 ? __int_as_float(0x7fc00000) : logf(sum) - (x[base + label * inner] - m);
    out[r] = loss;
    out[rows + r] = (label == best && loss == loss) ? 1.0f : 0.0f;
}

extern "C" __global__ void __launch_bounds__(SCE_WG)
softmax_cross_entropy_bwd(const float* __restrict__ x, const float* __restrict__ labels, float* __restrict__ dx,
                          const int rows, const int K, const int inner, const float scale)
{
    const int r = ck_global_id_x();
    if (r >= rows) {
        return;
    }
    const int o = r / inner;
    const int base = o * K * inner + (r - o * inner);
    const int label = sce_class(labels[r], K);
    float m = x[base];
    for (int k = 1; k < K; ++k) {
        m = fmaxf(m, x[base + k * inner]);
    }
    float sum = 0.0f;
    for (int k = 0; k < K; ++k) {
        sum += expf(x[base + k * inner] - m);
    }
    for (int k = 0; k < K; ++k) {
        const float p = expf(x[base + k * inner] - m) / sum;
        dx[base + k * inner] = label < 0 ? __int_as_float(0x7fc00000) : (k == label ? p - 1.0f : p) * scale;
    }
}
