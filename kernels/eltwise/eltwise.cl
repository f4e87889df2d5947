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
 * Broadcast arguments (eltwise_bcast and eltwise_rows_*): the collapsed dimensions below the
 * outermost one go right-aligned into int8 D (innermost in s7), with each input's element
 * strides in SA, SB (0 where that input repeats) and each dimension's division magic in MG, SH;
 * unused components hold D = 1, stride 0. The outermost dimension needs no division, so only its
 * strides come, as OUTER_SA, OUTER_SB. int8 components cannot be indexed by a variable (and a
 * private array indexed by one would spill on GPUs), so the coordinate split is unrolled over all
 * seven components; it has no branches, which keeps PoCL vectorising across work-items (guarding
 * the steps by the rank made it 5x slower). A CUDA twin passes structs with fields s0..s7.
 *
 * Variants:
 *   eltwise_same    both inputs have the output's shape: y[i] = act(a[i] OP b[i]); no index math.
 *   eltwise_bcast   any broadcast: each work-item splits its flat output index into coordinates.
 *   eltwise_rows_*  any broadcast whose innermost collapsed dimension (a row) is long, as in a
 *                   channel scale (rows of H*W) or a bias over rows: a 2-D grid (row element,
 *                   row), so the split runs per row (the same for a whole work-group) and each
 *                   input's row is read contiguously or repeats one value. One entry per pattern
 *                   of which inputs walk the row (_ab both, _a only a, _b only b), because loads
 *                   under a branch, or a select between addresses, become gathers on PoCL. For
 *                   rows shorter than ELTWISE_ROW_WG / 2 the host takes eltwise_bcast, as the 2-D
 *                   grid would leave most of each work-group idle. eltwise_rows2_* are the same
 *                   for layouts of rank 2, without the split of the row index.
 *
 * Grid: eltwise_same and eltwise_bcast are 1-D, one work-item per output element, global =
 * COUNT rounded up to ELTWISE_WG; element-wise work has no reuse, so a flat grid is all it needs,
 * and a 256-wide group gives PoCL's vectoriser whole vectors and a GPU whole warps.
 * eltwise_rows_* take (row length rounded up to ELTWISE_ROW_WG, rows), local (ELTWISE_ROW_WG, 1).
 * Work-items past the end return. Indices are 32-bit: the host refuses tensors of 2^31 elements
 * or more. NaN propagates: + and * keep NaN and ck_activate never replaces it.
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
 * for 0 <= r < 2^31 and D >= 2; the host computes MG and SH), because integer division does not
 * vectorise on CPUs and costs tens of instructions on GPUs. An unused component (D = 1) keeps r
 * whole and adds nothing: a select, not a branch.
 */
#define ELTWISE_STEP(K)                                                                          \
    {                                                                                            \
        const int q = (D.s##K == 1) ? r : (int) (mul_hi((uint) r, MG.s##K) >> SH.s##K);          \
        const int c = r - q * D.s##K;                                                            \
        r = q;                                                                                   \
        ia += c * SA.s##K;                                                                       \
        ib += c * SB.s##K;                                                                       \
    }

#define ELTWISE_BCAST_ARGS                                                                       \
    __global const float* restrict a, __global const float* restrict b,                         \
    __global float* restrict y, const int COUNT, const int KIND, const int ACT,                  \
    const int8 D, const int8 SA, const int8 SB, const uint8 MG, const uint8 SH,                  \
    const int OUTER_SA, const int OUTER_SB

__attribute__((reqd_work_group_size(ELTWISE_WG, 1, 1)))
__kernel void eltwise_bcast(ELTWISE_BCAST_ARGS)
{
    const int i = get_global_id(0);
    if (i >= COUNT) {
        return;
    }
    int r = i;
    int ia = 0;
    int ib = 0;
    ELTWISE_STEP(7)
    ELTWISE_STEP(6)
    ELTWISE_STEP(5)
    ELTWISE_STEP(4)
    ELTWISE_STEP(3)
    ELTWISE_STEP(2)
    ELTWISE_STEP(1)
    /* What remains is the outermost coordinate. */
    ia += r * OUTER_SA;
    ib += r * OUTER_SB;
    const float va = a[ia];
    const float vb = b[ib];
    const float v = (KIND == ELTWISE_KIND_MUL) ? va * vb : va + vb;
    y[i] = ck_activate(v, ACT);
}

/*
 * A row kernel: the row (innermost dimension, component 7) is the grid's first axis, so its
 * split is skipped; A_WALKS / B_WALKS say whether each input walks the row (stride 1) or repeats
 * one value along it (stride 0; never both, as such a dimension collapses away). SPLIT = 0 drops
 * the split of the row index altogether, for layouts of rank 2 (rows of one outer dimension:
 * the channel scale, a bias over [N, C*H*W]), where the row index is the outer coordinate:
 * although the unused steps are no-ops, PoCL does not hoist them out of its work-item loop and
 * they cost it 4x on a channel scale. The constant SPLIT folds away at compile time.
 */
#define ELTWISE_ROWS(NAME, A_WALKS, B_WALKS, SPLIT)                                              \
    __attribute__((reqd_work_group_size(ELTWISE_ROW_WG, 1, 1)))                                  \
    __kernel void NAME(ELTWISE_BCAST_ARGS)                                                       \
    {                                                                                            \
        const int j = get_global_id(0);                                                          \
        const int row = get_global_id(1);                                                        \
        const int inner = D.s7;                                                                  \
        if (j >= inner) {                                                                        \
            return;                                                                              \
        }                                                                                        \
        int r = row;                                                                             \
        int ia = 0;                                                                              \
        int ib = 0;                                                                              \
        if (SPLIT) {                                                                             \
            ELTWISE_STEP(6)                                                                      \
            ELTWISE_STEP(5)                                                                      \
            ELTWISE_STEP(4)                                                                      \
            ELTWISE_STEP(3)                                                                      \
            ELTWISE_STEP(2)                                                                      \
            ELTWISE_STEP(1)                                                                      \
        }                                                                                        \
        ia += r * OUTER_SA;                                                                      \
        ib += r * OUTER_SB;                                                                      \
        const float va = a[ia + (A_WALKS ? j : 0)];                                              \
        const float vb = b[ib + (B_WALKS ? j : 0)];                                              \
        const float v = (KIND == ELTWISE_KIND_MUL) ? va * vb : va + vb;                          \
        y[row * inner + j] = ck_activate(v, ACT);                                                \
    }

/* Both inputs walk the row, e.g. [N,C,H,W] + [1,C,H,W] with N > 1. */
ELTWISE_ROWS(eltwise_rows_ab, 1, 1, 1)
ELTWISE_ROWS(eltwise_rows2_ab, 1, 1, 0)
/* a walks, b repeats: a channel scale x * s[N,C,1,1], a bias over rows. */
ELTWISE_ROWS(eltwise_rows_a, 1, 0, 1)
ELTWISE_ROWS(eltwise_rows2_a, 1, 0, 0)
/* b walks, a repeats. */
ELTWISE_ROWS(eltwise_rows_b, 0, 1, 1)
ELTWISE_ROWS(eltwise_rows2_b, 0, 1, 0)
