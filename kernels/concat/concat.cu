/*
 * concat: ONNX Concat along any axis, float32, one strided block copy per input; the CUDA twin of
 * concat.cl (same entries, arguments, grids and results; see common/cuda_compat.h).
 *
 *   y[o * OUT_INNER + OFFSET + j] = x[o * INNER + j],   o < OUTER, j < INNER
 *
 * Variants (same arguments), one launch per input (org.convkit.ops.Concat#geometry):
 *   concat_rows  grid (ceil(INNER / CONCAT_ROW_WG), OUTER) blocks of (CONCAT_ROW_WG, 1):
 *                contiguous reads and writes of one row per grid row.
 *   concat_copy  1-D grid over OUTER * INNER elements, blocks of CONCAT_WG: one division per
 *                element, for rows too short to fill a block.
 * Built with (the host launches with exactly these): CONCAT_WG 256, CONCAT_ROW_WG 64.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef CONCAT_WG
#define CONCAT_WG 256
#endif
#ifndef CONCAT_ROW_WG
#define CONCAT_ROW_WG 64
#endif

extern "C" __global__ void __launch_bounds__(CONCAT_WG)
concat_copy(const float* __restrict__ x, float* __restrict__ y,
            const int OUTER, const int INNER, const int OUT_INNER, const int OFFSET)
{
    const int i = ck_global_id_x();
    if (i >= OUTER * INNER) {
        return;
    }
    const int o = i / INNER;
    const int j = i - o * INNER;
    y[o * OUT_INNER + OFFSET + j] = x[i];
}

extern "C" __global__ void __launch_bounds__(CONCAT_ROW_WG)
concat_rows(const float* __restrict__ x, float* __restrict__ y,
            const int OUTER, const int INNER, const int OUT_INNER, const int OFFSET)
{
    const int j = ck_global_id_x();
    const int o = ck_global_id_y();
    if (j >= INNER) {
        return;
    }
    y[o * OUT_INNER + OFFSET + j] = x[o * INNER + j];
}
