/*
 * concat_grad: the gradient of one input of concat, float32; the CUDA twin of concat_grad.cl (same
 * entry, arguments, grid and results; see common/cuda_compat.h): the input's slice of each of dy's
 * OUTER rows, a thread per element. Built with (the host launches with exactly these):
 * CONCAT_GRAD_WG 256. Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef CONCAT_GRAD_WG
#define CONCAT_GRAD_WG 256
#endif

extern "C" __global__ void __launch_bounds__(CONCAT_GRAD_WG)
concat_grad(const float* __restrict__ dy,
            float* __restrict__ dx,
            const int OUTER, const int INNER, const int OUT_INNER, const int OFFSET)
{
    const int i = ck_global_id_x();
    if (i >= OUTER * INNER) {
        return;
    }
    const int row = i / INNER;
    dx[i] = dy[row * OUT_INNER + OFFSET + (i - row * INNER)];
}
