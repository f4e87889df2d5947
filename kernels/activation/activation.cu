/*
 * activation: standalone element-wise activations and PReLU, float32, any shape (flat); the CUDA
 * twin of activation.cl (same entries, arguments, grids and results; see common/cuda_compat.h).
 *
 *   activation_fwd: y[i] = f_kind(x[i]; alpha, beta), ck_activation of common/convkit.h, kind
 *                   codes CK_ACT_* (= org.convkit.ops.ActivationOp.Kind#code()).
 *   prelu_fwd:      y[i] = x[i] < 0 ? slope[j(i)] * x[i] : x[i], the slope broadcast reduced by
 *                   the host to at most 8 groups (sizes D0..D7, slope strides S0..S7, ND used):
 *                   j = sum_k ((i / (D0*...*D(k-1))) % Dk) * Sk.
 * Grids: activation_fwd 1-D, blocks of ACTIVATION_WG, one thread per element (coalesced); the
 * kind is uniform, so no warp diverges on it. prelu_fwd 2-D, (ceil(D0 / PRELU_WG), count / D0)
 * blocks of (PRELU_WG, 1): a row of the innermost group per grid row, so the divisions for the
 * outer groups are per row (the same for a whole warp) rather than per element.
 * Built with (the host launches with exactly these): ACTIVATION_WG 256, PRELU_WG 64.
 * NaN propagates: every comparison is false for NaN and returns x itself.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef ACTIVATION_WG
#define ACTIVATION_WG 256
#endif
#ifndef PRELU_WG
#define PRELU_WG 64
#endif

extern "C" __global__ void __launch_bounds__(ACTIVATION_WG)
activation_fwd(const float* __restrict__ x, float* __restrict__ y,
               const int count, const int kind, const float alpha, const float beta)
{
    const int i = ck_global_id_x();
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

extern "C" __global__ void __launch_bounds__(PRELU_WG)
prelu_fwd(const float* __restrict__ x, const float* __restrict__ slope, float* __restrict__ y,
          const int ND,
          const int D0, const int D1, const int D2, const int D3,
          const int D4, const int D5, const int D6, const int D7,
          const int S0, const int S1, const int S2, const int S3,
          const int S4, const int S5, const int S6, const int S7)
{
    const int k = ck_global_id_x();
    const int row = ck_global_id_y();
    if (k >= D0) {
        return;
    }
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
    const float v = x[i];
    const float a = slope[j];
    y[i] = v < 0.0f ? a * v : v;
}
