/*
 * dense_grad: the input and weight gradients of dense (ONNX Gemm), float32;
 * org.convkit.ops.grad.DenseGrad. Both are one strided product
 *
 *   out[i * COLS + j] = ALPHA * sum_{l < INNER} P[i * PROW + l * PINNER] * Q[l * QINNER + j * QCOL]
 *
 * where one of P, Q is the output gradient dZ and the other the weight B (input gradient) or the
 * input A (weight gradient), each read through its transposes by the strides. With a fused ReLU,
 * dZ is masked by y > 0: m is y (laid out as dZ), applied to P when DZ_IS_P, else to Q; NULL
 * without one.
 *
 * Grid: 1-D, roundup(ROWS * COLS, DENSE_GRAD_WG), one work-item per output element summing its
 * INNER terms in order (deterministic; neighbouring work-items read neighbouring Q columns).
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef DENSE_GRAD_WG
#define DENSE_GRAD_WG 256
#endif

__attribute__((reqd_work_group_size(DENSE_GRAD_WG, 1, 1)))
__kernel void dense_grad(__global const float* restrict p,
                         __global const float* restrict q,
                         __global const float* restrict m,
                         __global float* restrict out,
                         const int ROWS, const int COLS, const int INNER,
                         const int PROW, const int PINNER, const int QINNER, const int QCOL,
                         const int DZ_IS_P, const float ALPHA)
{
    const int idx = get_global_id(0);
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
