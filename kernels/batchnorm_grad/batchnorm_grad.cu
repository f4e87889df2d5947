/*
 * batchnorm_grad: batch normalization's training form and the gradients of both forms, float32,
 * [N, C, S]; the CUDA twin of batchnorm_grad.cl (same entries, arguments, grids and results; see
 * common/cuda_compat.h):
 *   batchnorm_stats (mean and biased variance per channel, two passes, a block per channel),
 *   batchnorm_train_fwd, batchnorm_grad_sums (sum dy and sum dy (x - mean), a block per channel),
 *   batchnorm_grad_data (training form), batchnorm_grad_data_frozen (inference form),
 *   batchnorm_grad_scale (a thread per channel).
 * Per-channel reductions: every BATCHNORM_GRAD_WG-th element per thread in order, then the .cl's
 * halving tree (ck_block_tree): the same pairs, the same bits.
 * Built with (the host launches with exactly these): BATCHNORM_GRAD_WG 256.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef BATCHNORM_GRAD_WG
#define BATCHNORM_GRAD_WG 256
#endif

extern "C" __global__ void __launch_bounds__(BATCHNORM_GRAD_WG)
batchnorm_stats(const float* __restrict__ x, float* out, const int N, const int C, const int S)
{
    __shared__ float part[BATCHNORM_GRAD_WG];
    __shared__ float shared_mean;
    const int c = blockIdx.x;
    const int lid = threadIdx.x;
    const int M = N * S;
    float acc = 0.0f;
    for (int e = lid; e < M; e += BATCHNORM_GRAD_WG) {
        acc += x[((e / S) * C + c) * S + e % S];
    }
    acc = ck_block_tree<BATCHNORM_GRAD_WG>(acc, part, ck_op_sum());
    if (lid == 0) {
        shared_mean = acc / (float) M;
    }
    __syncthreads();
    const float mean = shared_mean;
    float sq = 0.0f;
    for (int e = lid; e < M; e += BATCHNORM_GRAD_WG) {
        const float d = x[((e / S) * C + c) * S + e % S] - mean;
        sq += d * d;
    }
    sq = ck_block_tree<BATCHNORM_GRAD_WG>(sq, part, ck_op_sum());
    if (lid == 0) {
        out[c] = mean;
        out[C + c] = sq / (float) M;
    }
}

extern "C" __global__ void __launch_bounds__(BATCHNORM_GRAD_WG)
batchnorm_train_fwd(const float* __restrict__ x, const float* __restrict__ scale, const float* __restrict__ bias,
                    const float* __restrict__ ws, float* __restrict__ y,
                    const int N, const int C, const int S, const float EPS)
{
    const int i = ck_global_id_x();
    if (i >= N * C * S) {
        return;
    }
    const int c = (i / S) % C;
    const float inv = 1.0f / sqrtf(ws[C + c] + EPS);
    y[i] = scale[c] * ((x[i] - ws[c]) * inv) + bias[c];
}

extern "C" __global__ void __launch_bounds__(BATCHNORM_GRAD_WG)
batchnorm_grad_sums(const float* __restrict__ dy, const float* __restrict__ x, const float* mean, float* out,
                    const int MEAN, const int OUT, const int N, const int C, const int S)
{
    __shared__ float part[BATCHNORM_GRAD_WG];
    const int c = blockIdx.x;
    const int lid = threadIdx.x;
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
    sum = ck_block_tree<BATCHNORM_GRAD_WG>(sum, part, ck_op_sum());
    __syncthreads();
    dot = ck_block_tree<BATCHNORM_GRAD_WG>(dot, part, ck_op_sum());
    if (lid == 0) {
        out[OUT + c] = sum;
        out[OUT + C + c] = dot;
    }
}

extern "C" __global__ void __launch_bounds__(BATCHNORM_GRAD_WG)
batchnorm_grad_data(const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ scale,
                    const float* __restrict__ ws, float* __restrict__ dx,
                    const int N, const int C, const int S, const float EPS)
{
    const int i = ck_global_id_x();
    if (i >= N * C * S) {
        return;
    }
    const int c = (i / S) % C;
    const float count = (float) (N * S);
    const float inv = 1.0f / sqrtf(ws[C + c] + EPS);
    const float xhat = (x[i] - ws[c]) * inv;
    const float meanDy = ws[2 * C + c] / count;
    const float meanDyXhat = ws[3 * C + c] * inv / count;
    dx[i] = scale[c] * inv * (dy[i] - meanDy - xhat * meanDyXhat);
}

extern "C" __global__ void __launch_bounds__(BATCHNORM_GRAD_WG)
batchnorm_grad_data_frozen(const float* __restrict__ dy, const float* __restrict__ scale,
                           const float* __restrict__ var, float* __restrict__ dx,
                           const int N, const int C, const int S, const float EPS)
{
    const int i = ck_global_id_x();
    if (i >= N * C * S) {
        return;
    }
    const int c = (i / S) % C;
    dx[i] = dy[i] * (scale[c] / sqrtf(var[c] + EPS));
}

extern "C" __global__ void __launch_bounds__(BATCHNORM_GRAD_WG)
batchnorm_grad_scale(const float* sums, const float* var, float* __restrict__ out,
                     const int SUMS, const int VAR, const int C, const float EPS)
{
    const int c = ck_global_id_x();
    if (c >= C) {
        return;
    }
    out[c] = sums[SUMS + C + c] / sqrtf(var[VAR + c] + EPS);
}
