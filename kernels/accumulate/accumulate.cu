/*
 * accumulate: y[i] += x[i], float32, flat, in place; the CUDA twin of accumulate.cl (same entry,
 * arguments, grid and results; see common/cuda_compat.h).
 *
 * x is a partial gradient, y the tensor's gradient so far (org.convkit.ops.train.Accumulate).
 * Grid: 1-D, blocks of ACCUMULATE_WG threads, one thread per element.
 * Built with (the host launches with exactly these): ACCUMULATE_WG 256.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef ACCUMULATE_WG
#define ACCUMULATE_WG 256
#endif

extern "C" __global__ void __launch_bounds__(ACCUMULATE_WG)
accumulate(const float* __restrict__ x, float* __restrict__ y, const int count)
{
    const int i = ck_global_id_x();
    if (i >= count) {
        return;
    }
    y[i] += x[i];
}
