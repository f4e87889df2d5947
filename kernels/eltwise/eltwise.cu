/*
 * eltwise: binary element-wise ops with ONNX multidirectional broadcasting, float32; the CUDA twin
 * of eltwise.cl (same entries, arguments, grids and results; see common/cuda_compat.h).
 *
 *   y[i] = act(a[ia(i)] OP b[ib(i)]),   OP = + (KIND 0, ONNX Add) or * (KIND 1, ONNX Mul)
 *
 * Layout: y row-major over the output shape, the broadcast collapsed by the host
 * (org.convkit.ops.Binary#layout). Broadcast arguments (eltwise_bcast, eltwise_rows*): the
 * collapsed dimensions below the outermost, right-aligned (innermost in s7) in the ck_int8 D, the
 * inputs' element strides in SA, SB, each dimension's division magic in the ck_uint8s MG, SH
 * (ck_int8 / ck_uint8 are OpenCL's int8 / uint8: eight 32-bit components, 32 bytes, 32-byte
 * aligned; unused components D = 1, stride 0), the outermost dimension's strides in OUTER_SA,
 * OUTER_SB. The coordinate split is unrolled over the seven components and branch-free, as in
 * the .cl; struct fields, unlike a private array indexed by a variable, stay in registers.
 *
 * Variants: eltwise_same (both inputs of the output's shape), eltwise_bcast (any broadcast, a split
 * per element), eltwise_rows_{ab,a,b} and eltwise_rows2_{ab,a,b} (a long innermost row: the split
 * per row; which inputs walk the row; rows2 for layouts of rank 2, without the split).
 * Grid: eltwise_same and eltwise_bcast 1-D, blocks of ELTWISE_WG, one thread per output element;
 * eltwise_rows* (ceil(row length / ELTWISE_ROW_WG), rows) blocks of (ELTWISE_ROW_WG, 1).
 * Built with (the host launches with exactly these): ELTWISE_WG 256, ELTWISE_ROW_WG 64.
 * Threads past the end return. Indices are 32-bit: the host refuses tensors of 2^31 elements or
 * more. NaN propagates.
 */
#include "common/cuda_compat.h"

#ifndef ELTWISE_WG
#define ELTWISE_WG 256
#endif
#ifndef ELTWISE_ROW_WG
#define ELTWISE_ROW_WG 64
#endif

#define ELTWISE_KIND_ADD 0
#define ELTWISE_KIND_MUL 1

extern "C" __global__ void __launch_bounds__(ELTWISE_WG)
eltwise_same(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ y,
             const int COUNT, const int KIND, const int ACT)
{
    const int i = ck_global_id_x();
    if (i >= COUNT) {
        return;
    }
    const float v = (KIND == ELTWISE_KIND_MUL) ? a[i] * b[i] : a[i] + b[i];
    y[i] = ck_activate(v, ACT);
}

/*
 * One coordinate step: peels dimension K off the remaining index r and adds its offsets. The
 * division by D.sK is a multiply-high by the host's magic number and a shift (exact for
 * 0 <= r < 2^31 and D >= 2); an unused component (D = 1) keeps r whole: a select, not a branch.
 */
#define ELTWISE_STEP(K)                                                                          \
    {                                                                                            \
        const int q = (D.s##K == 1) ? r : (int) (__umulhi((unsigned int) r, MG.s##K) >> SH.s##K); \
        const int c = r - q * D.s##K;                                                            \
        r = q;                                                                                   \
        ia += c * SA.s##K;                                                                       \
        ib += c * SB.s##K;                                                                       \
    }

#define ELTWISE_BCAST_ARGS                                                                       \
    const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ y,             \
    const int COUNT, const int KIND, const int ACT,                                              \
    const ck_int8 D, const ck_int8 SA, const ck_int8 SB, const ck_uint8 MG, const ck_uint8 SH,   \
    const int OUTER_SA, const int OUTER_SB

extern "C" __global__ void __launch_bounds__(ELTWISE_WG)
eltwise_bcast(ELTWISE_BCAST_ARGS)
{
    const int i = ck_global_id_x();
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
 * A row kernel: the row (component 7) is the grid's x axis, so its split is skipped; A_WALKS /
 * B_WALKS say whether each input walks the row (stride 1) or repeats one value along it. SPLIT = 0
 * drops the split of the row index (rank-2 layouts, where the row index is the outer coordinate).
 * The constants fold away at compile time.
 */
#define ELTWISE_ROWS(NAME, A_WALKS, B_WALKS, SPLIT)                                              \
    extern "C" __global__ void __launch_bounds__(ELTWISE_ROW_WG)                                 \
    NAME(ELTWISE_BCAST_ARGS)                                                                     \
    {                                                                                            \
        const int j = ck_global_id_x();                                                          \
        const int row = ck_global_id_y();                                                        \
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
