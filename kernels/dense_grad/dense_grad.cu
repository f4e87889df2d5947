/*
 * dense_grad: the input and weight gradients of dense (ONNX Gemm), float32; the CUDA twin of
 * dense_grad.cl (same entry, arguments, grid and results; see common/cuda_compat.h):
 *
 *   out[i * COLS + j] = ALPHA * sum_{l < INNER} P[i * PROW + l * PINNER] * Q[l * QINNER + j * QCOL]
 *
 * dZ (P when DZ_IS_P, else Q) masked by y > 0 through m when a ReLU was fused (NULL otherwise).
 * Grid: 1-D, blocks of DENSE_GRAD_WG, a thread per output element, its terms in order.
 * Built with (the host launches with exactly these): DENSE_GRAD_WG 256.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef DENSE_GRAD_WG
#define DENSE_GRAD_WG 256
#endif

extern "C" __global__ void __launch_bounds__(DENSE_GRAD_WG)
dense_grad(const float* __restrict__ p, const float* __restrict__ q, const float* __restrict__ m,
           float* __restrict__ out, const int ROWS, const int COLS, const int INNER,
           const int PROW, const int PINNER, const int QINNER, const int QCOL,
           const int DZ_IS_P, const float ALPHA)
{
    const int idx = ck_global_id_x();
    if (idx >= ROWS * COLS) {
        return;
    }
    const int i = idx / COLS;
    const int j = idx - i * COLS;
    float acc = 0.0f;
    for (int l = 0; l < INNER; ++l) {
        const int pi = i * PROW + l * PINNER;
        const int qi = l * QINNER + j * QCOL;
        float pv = p[pi];
        float qv = q[qi];
        if (m != 0) {
            if (DZ_IS_P) {
                pv = m[pi] > 0.0f ? pv : 0.0f;
            } else {
                qv = m[qi] > 0.0f ? qv : 0.0f;
            }
        }
        acc += pv * qv;
    }
    out[idx] = ALPHA * acc;
}
