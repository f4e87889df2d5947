/*
 * softmax_grad: the input gradient of softmax along one axis, float32, any rank;
 * org.convkit.ops.grad.SoftmaxGrad. The tensor is viewed as [OUTER, LENGTH, INNER] (the axis in
 * the middle), each (outer, inner) pair a row of LENGTH elements INNER apart:
 *
 *   dx[k] = y[k] * (dy[k] - sum_j dy[j] * y[j])          along each row
 *
 * Grid: 1-D, roundup(OUTER * INNER, SOFTMAX_GRAD_WG), one work-item per row: the dot product in
 * order, then the row (deterministic). Neighbouring work-items take neighbouring inner positions,
 * so for an inner axis their reads are coalesced. Indices are 32-bit: the host refuses tensors of
 * 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef SOFTMAX_GRAD_WG
#define SOFTMAX_GRAD_WG 256
#endif

__attribute__((reqd_work_group_size(SOFTMAX_GRAD_WG, 1, 1)))
__kernel void softmax_grad(__global const float* restrict dy,
                           __global const float* restrict y,
                           __global float* restrict dx,
                           const int OUTER, const int LENGTH, const int INNER)
{
    const int row = get_global_id(0);
    if (row >= OUTER * INNER) {
        return;
    }
    const int base = (row / INNER) * LENGTH * INNER + row % INNER;
    float dot = 0.0f;
    for (int k = 0; k < LENGTH; ++k) {
        dot += dy[base + k * INNER] * y[base + k * INNER];
    }
    for (int k = 0; k < LENGTH; ++k) {
        const int i = base + k * INNER;
        dx[i] = y[i] * (dy[i] - dot);
    }
}
