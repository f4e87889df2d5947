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
 *                 the RANK used dimensions are components 8-RANK .. 7, the innermost in s7;
 *                 MG and SH hold each dimension's division magic, and the outermost dimension's
 *                 strides come as the scalars OUTER_SA, OUTER_SB (it needs no division).
 *                 Each work-item splits its flat output index into coordinates, innermost first;
 *                 the unrolled steps are guarded by the uniform RANK so unused dims cost nothing
 *                 but a branch (int8 components cannot be indexed by a variable, and a private
 *                 array indexed by one would spill on GPUs). A CUDA twin passes a struct with
 *                 fields s0..s7 in their place.
 *
 *   eltwise_rows  the general case when the innermost collapsed dimension (a row) is long, as in
 *                 a channel scale (rows of H*W) or a bias over rows: the same arguments, but a
 *                 2-D grid (row element, row), so the coordinate split runs per row (the same
 *                 for a whole work-group) and each input's row is either read contiguously or
 *                 repeats one value. A flat grid's per-element split and gathers cost PoCL 10x;
 *                 for rows shorter than ELTWISE_ROW_WG / 2 the host takes eltwise_bcast, as the
 *                 2-D grid would leave most of each work-group idle.
 *
 * Grid: eltwise_same and eltwise_bcast are 1-D, one work-item per output element, global =
 * COUNT rounded up to ELTWISE_WG, work-items past COUNT return; element-wise work has no reuse,
 * so a flat grid is all it needs, and a 256-wide group gives PoCL's vectoriser whole vectors and
 * a GPU whole warps. eltwise_rows is (row length rounded up to ELTWISE_ROW_WG, rows), local
 * (ELTWISE_ROW_WG, 1).
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 * NaN propagates: + and * keep NaN and ck_activate never replaces it.
 */
#include "common/convkit.h"

#ifndef ELTWISE_WG
#define ELTWISE_WG 256
#endif
#ifndef ELTWISE_ROW_WG
#define ELTWISE_ROW_WG 64
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

/*
 * One coordinate step: peels dimension K off the remaining index r and adds its offsets. The
 * division by D.sK is a multiply-high by a magic number and a shift (Granlund-Montgomery, exact
 * for 0 <= r < 2^31 and D >= 2; the host computes MG and SH): integer division does not vectorise
 * on CPUs and costs tens of instructions on GPUs.
 */
#define ELTWISE_STEP(K)                                             \
    {                                                               \
        const int q = (int) (mul_hi((uint) r, MG.s##K) >> SH.s##K); \
        const int c = r - q * D.s##K;                               \
        r = q;                                                      \
        ia += c * SA.s##K;                                          \
        ib += c * SB.s##K;                                          \
    }

__attribute__((reqd_work_group_size(ELTWISE_WG, 1, 1)))
__kernel void eltwise_bcast(__global const float* restrict a,
                            __global const float* restrict b,
                            __global float* restrict y,
                            const int COUNT, const int KIND, const int ACT, const int RANK,
                            const int8 D, const int8 SA, const int8 SB, const uint8 MG, const uint8 SH,
                            const int OUTER_SA, const int OUTER_SB)
{
    const int i = get_global_id(0);
    if (i >= COUNT) {
        return;
    }
    int r = i;
    int ia = 0;
    int ib = 0;
    if (RANK > 1) ELTWISE_STEP(7)
    if (RANK > 2) ELTWISE_STEP(6)
    if (RANK > 3) ELTWISE_STEP(5)
    if (RANK > 4) ELTWISE_STEP(4)
    if (RANK > 5) ELTWISE_STEP(3)
    if (RANK > 6) ELTWISE_STEP(2)
    if (RANK > 7) ELTWISE_STEP(1)
    /* What remains is the outermost coordinate, which needs no division. */
    ia += r * OUTER_SA;
    ib += r * OUTER_SB;
    const float va = a[ia];
    const float vb = b[ib];
    const float v = (KIND == ELTWISE_KIND_MUL) ? va * vb : va + vb;
    y[i] = ck_activate(v, ACT);
}

__attribute__((reqd_work_group_size(ELTWISE_ROW_WG, 1, 1)))
__kernel void eltwise_rows(__global const float* restrict a,
                           __global const float* restrict b,
                           __global float* restrict y,
                           const int COUNT, const int KIND, const int ACT, const int RANK,
                           const int8 D, const int8 SA, const int8 SB, const uint8 MG, const uint8 SH,
                           const int OUTER_SA, const int OUTER_SB)
{
    const int j = get_global_id(0);
    const int row = get_global_id(1);
    const int inner = D.s7;
    if (j >= inner) {
        return;
    }
    /* The row's start in a and b: the coordinate split of eltwise_bcast without the innermost step. */
    int r = row;
    int ia = 0;
    int ib = 0;
    if (RANK > 2) ELTWISE_STEP(6)
    if (RANK > 3) ELTWISE_STEP(5)
    if (RANK > 4) ELTWISE_STEP(4)
    if (RANK > 5) ELTWISE_STEP(3)
    if (RANK > 6) ELTWISE_STEP(2)
    if (RANK > 7) ELTWISE_STEP(1)
    if (RANK > 1) {
        ia += r * OUTER_SA;
        ib += r * OUTER_SB;
    }
    /* Inner strides are 1 (walk) or 0 (repeat); the branch is the same for every work-item. */
    const float va = SA.s7 != 0 ? a[ia + j] : a[ia];
    const float vb = SB.s7 != 0 ? b[ib + j] : b[ib];
    const float v = (KIND == ELTWISE_KIND_MUL) ? va * vb : va + vb;
    y[row * inner + j] = ck_activate(v, ACT);
}
