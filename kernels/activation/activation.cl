/*
 * activation: standalone element-wise activations and PReLU, float32, any shape (flat).
 *
 *   activation_fwd: y[i] = f_kind(x[i]; alpha, beta), f = relu, leaky_relu, sigmoid, tanh,
 *                   hard_sigmoid or clip (ck_activation in common/convkit.h; kind codes
 *                   CK_ACT_*, = org.convkit.ops.ActivationOp.Kind#code()).
 *   prelu_fwd:      y[i] = x[i] < 0 ? slope[j(i)] * x[i] : x[i], slope broadcast ONNX-style.
 *
 * Layout: x and y are the same flat row-major tensor of `count` elements. For PReLU the host
 * reduces the broadcast to at most 8 groups of dimensions, innermost first (sizes D0..D7,
 * slope strides S0..S7, the first ND used, at least one; org.convkit.ops.PRelu.Broadcast): the
 * slope index is sum_k ((i / (D0*...*D(k-1))) % Dk) * Sk. NCHW with a per-channel slope is
 * ND = 2, D = {H*W, C}, S = {0, 1}.
 * Grids: activation_fwd 1-D, roundup(count, ACTIVATION_WG), one work-item per element, so
 * neighbouring work-items touch neighbouring floats (coalesced). The kind is a uniform argument:
 * one program serves every activation, and the branch is the same for a whole work-group.
 * prelu_fwd 2-D, (roundup(D0, PRELU_WG), count / D0): a row of the innermost group per grid row,
 * so the divisions for the outer groups are per row (hoisted out of the work-item loop on CPUs,
 * uniform on GPUs) instead of per element; integer division per element made it 7x slower than
 * ReLU on PoCL. Rows shorter than PRELU_WG leave work-items idle; they are rare (a broadcast
 * whose innermost indexed or broadcast run is that short) and small.
 * NaN propagates: every comparison is false for NaN and returns x itself.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef ACTIVATION_WG
#define ACTIVATION_WG 256
#endif
#ifndef PRELU_WG
#define PRELU_WG 64
#endif

__attribute__((reqd_work_group_size(ACTIVATION_WG, 1, 1)))
__kernel void activation_fwd(__global const float* restrict x,
                             __global float* restrict y,
                             const int count, const int kind,
                             const float alpha, const float beta)
{
    const int i = get_global_id(0);
    if (i >= count) {
        return;
    }
    y[i] = ck_activation(x[i], kind, alpha, beta);
}

/* One outer group of the slope index: the digit of the row in this group times its stride. */
#define PRELU_GROUP(k)                 \
    if (ND > k) {                      \
        j += (rest % D##k) * S##k;     \
        rest /= D##k;                  \
    }

__attribute__((reqd_work_group_size(PRELU_WG, 1, 1)))
__kernel void prelu_fwd(__global const float* restrict x,
                        __global const float* restrict slope,
                        __global float* restrict y,
                        const int ND,
                        const int D0, const int D1, const int D2, const int D3,
                        const int D4, const int D5, const int D6, const int D7,
                        const int S0, const int S1, const int S2, const int S3,
                        const int S4, const int S5, const int S6, const int S7)
{
    const int k = get_global_id(0);
    const int row = get_global_id(1);
    if (k >= D0) {
        return;
    }
    /* The outer groups depend on the row only: computed once per row, not per element. */
    int rest = row;
    int j = k * S0;
    PRELU_GROUP(1)
    PRELU_GROUP(2)
    PRELU_GROUP(3)
    PRELU_GROUP(4)
    PRELU_GROUP(5)
    PRELU_GROUP(6)
    PRELU_GROUP(7)
    const int i = row * D0 + k;
    /* Both loads unconditional: a select, not a branch on the sign (random signs mispredict). */
    const float v = x[i];
    const float a = slope[j];
    y[i] = v < 0.0f ? a * v : v;
}
