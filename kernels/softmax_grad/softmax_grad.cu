/*
 * softmax_grad: the input gradient of softmax along one axis, float32, any rank; the CUDA twin of
 * softmax_grad.cl (same entry, arguments, grid and results; see common/cuda_compat.h):
 * dx = y * (dy - sum(dy * y)) along each row of [OUTER, LENGTH, INNER], a thread per row.
 * Built with (the host launches with exactly these): SOFTMAX_GRAD_WG 256.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef SOFTMAX_GRAD_WG
#define SOFTMAX_GRAD_WG 256
#endif

extern "C" __global__ void __launch_bounds__(SOFTMAX_GRAD_WG)
softmax_grad(const float* __restrict__ dy,
             const float* __restrict__ y,
             float* __restrict__ dx,
             const int OUTER, const int LENGTH, const int INNER)
{
    const int row = ck_global_id_x();
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
