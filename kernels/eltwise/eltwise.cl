/*
 * eltwise: binary element-wise ops with ONNX multidirectional broadcasting, float32.
 *
 *   y[i] = act(a[ia(i)] OP b[ib(i)]),   OP = + (KIND 0, ONNX Add) or * (KIND 1, ONNX Mul)
 *
 * Layout: y is row-major over the output shape. The host collapses the broadcast first
 * (org.convkit.ops.Binary#layout): output dimensions of size 1 are dropped and neighbouring
 * dimensions that both inputs walk the same way are merged, so a residual add [N,C,H,W] +
 * [N,C,H,W] becomes one dimension and a channel scale [N,C,H,W] * [N,C,1,1] becomes [N*C, H*W]
 * with b's strides (1, 0).
 *
 * Variants:
 *   eltwise_same  both inputs have the output's shape: y[i] = act(a[i] OP b[i]); no index math.
 *   eltwise_bcast the general case: the collapsed output dims D and each input's element strides
 *                 SA, SB (0 where that input repeats) arrive as int8 vectors, right-aligned:
 *                 the RANK used dimensions are components 8-RANK .. 7, the innermost in s7.
 *                 Each work-item splits its flat output index into coordinates, innermost first;
 *                 the unrolled steps are guarded by the uniform RANK so unused dims cost nothing
 *                 but a branch (int8 components cannot be indexed by a variable, and a private
 *                 array indexed by one would spill on GPUs). A CUDA twin passes a struct with
 *                 fields s0..s7 in their place.
 *
 * Grid: 1-D, one work-item per output element, global = COUNT rounded up to ELTWISE_WG,
 * work-items past COUNT return. Element-wise work has no reuse, so a flat grid is all it needs;
 * a 256-wide group gives PoCL's vectoriser whole vectors and a GPU whole warps.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 * NaN propagates: + and * keep NaN and ck_activate never replaces it.
 */
#include "common/convkit.h"

#ifndef ELTWISE_WG
#define ELTWISE_WG 256
#endif

#define ELTWISE_KIND_ADD 0
#define ELTWISE_KIND_MUL 1

__attribute__((reqd_work_group_size(ELTWISE_WG, 1, 1)))
__kernel void eltwise_same(__global const float* restrict a,
                           __global const float* restrict b,
                           __global float* restrict y,
                           const int COUNT, const int KIND, const int ACT)
{
    const int i = get_global_id(0);
    if (i >= COUNT) {
        return;
    }
    const float v = (KIND == ELTWISE_KIND_MUL) ? a[i] * b[i] : a[i] + b[i];
    y[i] = ck_activate(v, ACT);
}

/* One coordinate step: peels dimension K off the remaining index r and adds its offsets. */
#define ELTWISE_STEP(K)                      \
    {                                        \
        const int q = r / D.s##K;            \
        const int c = r - q * D.s##K;        \
        r = q;                               \
        ia += c * SA.s##K;                   \
        ib += c * SB.s##K;                   \
    }

__attribute__((reqd_work_group_size(ELTWISE_WG, 1, 1)))
__kernel void eltwise_bcast(__global const float* restrict a,
                            __global const float* restrict b,
                            __global float* restrict y,
                            const int COUNT, const int KIND, const int ACT, const int RANK,
                            const int8 D, const int8 SA, const int8 SB)
{
    const int i = get_global_id(0);
    if (i >= COUNT) {
        return;
    }
    int r = i;
    int ia = 0;
    int ib = 0;
    if (RANK > 0) ELTWISE_STEP(7)
    if (RANK > 1) ELTWISE_STEP(6)
    if (RANK > 2) ELTWISE_STEP(5)
    if (RANK > 3) ELTWISE_STEP(4)
    if (RANK > 4) ELTWISE_STEP(3)
    if (RANK > 5) ELTWISE_STEP(2)
    if (RANK > 6) ELTWISE_STEP(1)
    if (RANK > 7) ELTWISE_STEP(0)
    const float va = a[ia];
    const float vb = b[ib];
    const float v = (KIND == ELTWISE_KIND_MUL) ? va * vb : va + vb;
    y[i] = ck_activate(v, ACT);
}
