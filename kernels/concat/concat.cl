/*
 * concat: ONNX Concat along any axis, float32, as one strided block copy per input.
 *
 *   y[o * OUT_INNER + OFFSET + j] = x[o * INNER + j],   o < OUTER, j < INNER
 *
 * Layout: viewed row-major, the input x is OUTER rows of INNER elements (OUTER = product of the
 * dimensions before the axis, INNER = x's size along the axis times the product of those after
 * it); the output y has OUTER rows of OUT_INNER elements, and x's rows land at column OFFSET.
 * The host launches one of the variants below once per input, with that input's INNER and OFFSET
 * (org.convkit.ops.Concat#geometry). Concatenating on axis 0 is OUTER = 1: one contiguous copy.
 *
 * Variants (same arguments):
 *   concat_rows  2-D grid (INNER rounded up to CONCAT_ROW_WG, OUTER), local (CONCAT_ROW_WG, 1):
 *                no index arithmetic beyond a multiply-add, contiguous reads and writes. The
 *                usual case: a channel concat of NCHW has OUTER = N and rows of C_i*H*W.
 *   concat_copy  1-D grid over the input's OUTER * INNER elements rounded up to CONCAT_WG, one
 *                division per element to find the row: for rows shorter than CONCAT_ROW_WG / 2
 *                (a last-axis concat of small tensors), where the 2-D grid would idle most of
 *                each work-group.
 * Work-items past the end return.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef CONCAT_WG
#define CONCAT_WG 256
#endif
#ifndef CONCAT_ROW_WG
#define CONCAT_ROW_WG 64
#endif

__attribute__((reqd_work_group_size(CONCAT_WG, 1, 1)))
__kernel void concat_copy(__global const float* restrict x,
                          __global float* restrict y,
                          const int OUTER, const int INNER, const int OUT_INNER, const int OFFSET)
{
    const int i = get_global_id(0);
    if (i >= OUTER * INNER) {
        return;
    }
    const int o = i / INNER;
    const int j = i - o * INNER;
    y[o * OUT_INNER + OFFSET + j] = x[i];
}

__attribute__((reqd_work_group_size(CONCAT_ROW_WG, 1, 1)))
__kernel void concat_rows(__global const float* restrict x,
                          __global float* restrict y,
                          const int OUTER, const int INNER, const int OUT_INNER, const int OFFSET)
{
    const int j = get_global_id(0);
    const int o = get_global_id(1);
    if (j >= INNER) {
        return;
    }
    y[o * OUT_INNER + OFFSET + j] = x[o * INNER + j];
}
