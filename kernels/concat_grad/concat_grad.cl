/*
 * concat_grad: the gradient of one input of concat, float32; org.convkit.ops.grad.ConcatGrad.
 * dy is OUTER rows of OUT_INNER elements; the input's gradient is its slice of each row:
 *
 *   dx[row * INNER + k] = dy[row * OUT_INNER + OFFSET + k]
 *
 * Grid: 1-D, roundup(OUTER * INNER, CONCAT_GRAD_WG), one work-item per element (coalesced on both
 * sides). A copy: bit-exact. Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef CONCAT_GRAD_WG
#define CONCAT_GRAD_WG 256
#endif

__attribute__((reqd_work_group_size(CONCAT_GRAD_WG, 1, 1)))
__kernel void concat_grad(__global const float* restrict dy,
                          __global float* restrict dx,
                          const int OUTER, const int INNER, const int OUT_INNER, const int OFFSET)
{
    const int i = get_global_id(0);
    if (i >= OUTER * INNER) {
        return;
    }
    const int row = i / INNER;
    dx[i] = dy[row * OUT_INNER + OFFSET + (i - row * INNER)];
}
