/*
 * softmax: ONNX opset-13 softmax along one axis, float32, numerically stable; the CUDA twin of
 * softmax.cl (same entries, arguments, grids and results; see common/cuda_compat.h).
 *
 *   y[o,j,i] = exp(x[o,j,i] - m[o,i]) / sum_j' exp(x[o,j',i] - m[o,i]),  m[o,i] = max_j x[o,j,i]
 *
 * Layout: x, y viewed as [outer, L, inner]; row r = o * inner + i holds x[(o*L + j)*inner + i].
 * Three passes over a row: the max (fmaxf, as the .cl's fmax), e = exp(x - m) written to y and
 * summed, then y = e / sum. A NaN in a row makes the whole row NaN (it enters the sum).
 * Variants, chosen by the host:
 *   softmax_fwd:    one thread per row, 1-D grid of blocks of SOFTMAX_ROW_WG.
 *   softmax_fwd_wg: one block of SOFTMAX_WG threads per row (rows blocks), for long rows: the
 *                   threads stride over the row, then combine max and sum by the .cl's halving
 *                   tree, the same pairs in the same order, with only its steps of 64 and more
 *                   through shared memory and the last five as warp shuffles (ck_block_tree); two
 *                   barriers per reduction instead of eight.
 * Built with (the host launches with exactly these): SOFTMAX_ROW_WG 64, SOFTMAX_WG 128.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef SOFTMAX_ROW_WG
#define SOFTMAX_ROW_WG 64
#endif
#ifndef SOFTMAX_WG
#define SOFTMAX_WG 128 /* a power of two of at least two warps: the tree halves it */
#endif

extern "C" __global__ void __launch_bounds__(SOFTMAX_ROW_WG)
softmax_fwd(const float* __restrict__ x, float* __restrict__ y, const int rows, const int L, const int inner)
{
    const int r = ck_global_id_x();
    if (r >= rows) {
        return;
    }
    const int o = r / inner;
    const int base = o * L * inner + (r - o * inner);
    float m = x[base];
    for (int j = 1; j < L; ++j) {
        m = fmaxf(m, x[base + j * inner]);
    }
    float sum = 0.0f;
    for (int j = 0; j < L; ++j) {
        const float e = expf(x[base + j * inner] - m);
        y[base + j * inner] = e;
        sum += e;
    }
    for (int j = 0; j < L; ++j) {
        y[base + j * inner] /= sum;
    }
}

extern "C" __global__ void __launch_bounds__(SOFTMAX_WG)
softmax_fwd_wg(const float* __restrict__ x, float* __restrict__ y, const int L, const int inner)
{
    __shared__ float red[SOFTMAX_WG];
    /* Thread 0's totals, for the whole block. */
    __shared__ float row_max;
    __shared__ float row_sum;
    const int r = blockIdx.x;
    const int t = threadIdx.x;
    const int o = r / inner;
    const int base = o * L * inner + (r - o * inner);

    float m = -INFINITY;
    for (int j = t; j < L; j += SOFTMAX_WG) {
        m = fmaxf(m, x[base + j * inner]);
    }
    m = ck_block_tree<SOFTMAX_WG>(m, red, ck_op_fmax());
    if (t == 0) {
        row_max = m;
    }
    /* Also ends every read of red by the first tree, before the second writes it. */
    __syncthreads();
    m = row_max;

    float sum = 0.0f;
    for (int j = t; j < L; j += SOFTMAX_WG) {
        const float e = expf(x[base + j * inner] - m);
        y[base + j * inner] = e;
        sum += e;
    }
    sum = ck_block_tree<SOFTMAX_WG>(sum, red, ck_op_sum());
    if (t == 0) {
        row_sum = sum;
    }
    __syncthreads();
    const float total = row_sum;

    /* Each thread rescales the elements it wrote itself: no barrier needed on y. */
    for (int j = t; j < L; j += SOFTMAX_WG) {
        y[base + j * inner] /= total;
    }
}
