/*
 * softmax: ONNX opset-13 softmax along one axis, float32, numerically stable.
 *
 *   y[o,j,i] = exp(x[o,j,i] - m[o,i]) / sum_j' exp(x[o,j',i] - m[o,i]),  m[o,i] = max_j x[o,j,i]
 *
 * Layout: x, y viewed as [outer, L, inner] (the axis is L; org.convkit.ops.Softmax.Geometry).
 * Row r = o * inner + i holds the L elements x[(o*L + j)*inner + i], j < L. Subtracting the max
 * bounds every exp by 1, so large inputs (10000 and more) neither overflow nor give NaN. Three
 * passes over a row: max, then e = exp(x - m) written to y and summed, then y = e / sum.
 * Variants, chosen by the host:
 *   softmax_fwd:    one work-item per row, grid roundup(rows, SOFTMAX_ROW_WG). For inner > 1
 *                   neighbouring work-items read neighbouring floats (coalesced); for short
 *                   rows there is little to share anyway.
 *   softmax_fwd_wg: one work-group of SOFTMAX_WG work-items per row, grid rows * SOFTMAX_WG,
 *                   for long rows (classifier outputs: 1000 classes): the work-items stride
 *                   over the row and combine their max and sum in local memory by a tree
 *                   reduction. Also used for long strided rows when there are too few of them
 *                   to occupy the device with one work-item each.
 * A NaN in a row makes the whole row NaN (it enters the sum), as in the ONNX reference.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef SOFTMAX_ROW_WG
#define SOFTMAX_ROW_WG 64
#endif
#ifndef SOFTMAX_WG
#define SOFTMAX_WG 128 /* a power of two: the tree reduction halves it */
#endif

__attribute__((reqd_work_group_size(SOFTMAX_ROW_WG, 1, 1)))
__kernel void softmax_fwd(__global const float* restrict x,
                          __global float* restrict y,
                          const int rows, const int L, const int inner)
{
    const int r = get_global_id(0);
    if (r >= rows) {
        return;
    }
    const int o = r / inner;
    const int base = o * L * inner + (r - o * inner);
    float m = x[base];
    for (int j = 1; j < L; ++j) {
        m = fmax(m, x[base + j * inner]);
    }
    float sum = 0.0f;
    for (int j = 0; j < L; ++j) {
        const float e = exp(x[base + j * inner] - m);
        y[base + j * inner] = e;
        sum += e;
    }
    for (int j = 0; j < L; ++j) {
        y[base + j * inner] /= sum;
    }
}

__attribute__((reqd_work_group_size(SOFTMAX_WG, 1, 1)))
__kernel void softmax_fwd_wg(__global const float* restrict x,
                             __global float* restrict y,
                             const int L, const int inner)
{
    __local float red[SOFTMAX_WG];
    const int r = get_group_id(0);
    const int t = get_local_id(0);
    const int o = r / inner;
    const int base = o * L * inner + (r - o * inner);

    float m = -INFINITY;
    for (int j = t; j < L; j += SOFTMAX_WG) {
        m = fmax(m, x[base + j * inner]);
    }
    red[t] = m;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = SOFTMAX_WG / 2; h > 0; h >>= 1) {
        if (t < h) {
            red[t] = fmax(red[t], red[t + h]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    m = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);

    float sum = 0.0f;
    for (int j = t; j < L; j += SOFTMAX_WG) {
        const float e = exp(x[base + j * inner] - m);
        y[base + j * inner] = e;
        sum += e;
    }
    red[t] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = SOFTMAX_WG / 2; h > 0; h >>= 1) {
        if (t < h) {
            red[t] += red[t + h];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = red[0];

    /* Each work-item rescales the elements it wrote itself: no barrier needed on y. */
    for (int j = t; j < L; j += SOFTMAX_WG) {
        y[base + j * inner] /= total;
    }
}
