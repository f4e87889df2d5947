/*
 * dense: ONNX Gemm, Y = act(ALPHA * A' * B' + BETA * C), float32, row-major.
 *
 *   A' = TRANS_A ? A^T : A, A stored [M, K] or [K, M] (TRANS_A)
 *   B' = TRANS_B ? B^T : B, B stored [K, N] or [N, K] (TRANS_B, the PyTorch Linear layout)
 *   C[m, n] is element m * C_ROW + n * C_COL of c (a stride of 0 repeats a broadcast
 *   dimension: [1], [N], [1,N], [M,1], [M,N] all go through the same code); c NULL = no bias.
 *   y [M, N]; act = ACT (common/convkit.h), applied last.
 *
 * Transposes are index math, decided per launch by TRANS_A / TRANS_B (uniform across the grid,
 * so the branches never diverge).
 *
 * Entries:
 * - dense_tiled: the general case. A work-group computes a DENSE_TILE_M x DENSE_TILE_N tile of Y
 *   (local size DENSE_TILE_N/DENSE_WPT_N x DENSE_TILE_M/DENSE_WPT_M); each work-item a 4x4
 *   block of adjacent rows and columns in four float4 registers, fed by one float4 read of A and
 *   one of B from local memory per k (neighbouring work-items, neighbouring 16 bytes), so the
 *   arithmetic is vector code even where work-items run one after another (PoCL: 4x faster
 *   than a block strided by the local size). K advances DENSE_TILE_K at a time through local
 *   memory; each tile of A and B is
 *   loaded with the work-items walking the stored matrix's contiguous axis (coalesced whatever
 *   the transposes), zeros outside the matrices. Grid: (ceil(N/TILE_N) * WG_N, ceil(M/TILE_M) * WG_M).
 * - dense_small_nk (M <= DENSE_SMALL_M, TRANS_B): a matrix-vector product in disguise (a batch of
 *   a few rows against a [N, K] weight, e.g. AlexNet's fc6 at batch 1), where a 64-row tile would
 *   waste almost all its work. One work-group per output column n: its DENSE_SMALL_WG work-items
 *   stride through row n of B (contiguous) four floats at a time, for all M rows at once, then
 *   M of them add up the partial sums from local memory. Grid: (DENSE_SMALL_WG * N).
 * - dense_small_kn (M <= DENSE_SMALL_M, not TRANS_B): B is [K, N], a row of B holds the inputs
 *   of N columns. Work-group DENSE_KN_WX x DENSE_KN_WY: each work-item takes four adjacent
 *   columns (neighbouring work-items, neighbouring 16 bytes of a row of B) over one of
 *   DENSE_KN_WY interleaved slices of K, so that even a narrow layer has N / 4 * WY work-items;
 *   the slices are added up from local memory. Grid: (ceil(N / (4 * WX)) * WX, WY).
 * The matrix-vector entries read B once, which bounds small-batch layers; their row count is
 * made a compile-time constant by a switch on M (see DENSE_SWITCH_M).
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef DENSE_TILE_M
#define DENSE_TILE_M 64
#endif
#ifndef DENSE_TILE_N
#define DENSE_TILE_N 64
#endif
#ifndef DENSE_TILE_K
#define DENSE_TILE_K 32
#endif
#ifndef DENSE_WPT_M
#define DENSE_WPT_M 4
#endif
#ifndef DENSE_WPT_N
#define DENSE_WPT_N 4
#endif
#ifndef DENSE_SMALL_M
#define DENSE_SMALL_M 8
#endif
#ifndef DENSE_SMALL_WG
#define DENSE_SMALL_WG 64
#endif
#ifndef DENSE_KN_WX
#define DENSE_KN_WX 16
#endif
#ifndef DENSE_KN_WY
#define DENSE_KN_WY 16
#endif

#define DENSE_WG_M (DENSE_TILE_M / DENSE_WPT_M)
#define DENSE_WG_N (DENSE_TILE_N / DENSE_WPT_N)
#define DENSE_WG (DENSE_WG_M * DENSE_WG_N)

/* alpha * sum, plus beta * C[m, n] when there is a bias, then the activation. */
CK_FUNC float dense_finish(float sum, int m, int n, __global const float* c, float alpha, float beta,
                          int cRow, int cCol, int act)
{
    float v = alpha * sum;
    if (c != 0) {
        v = fma(beta, c[m * cRow + n * cCol], v);
    }
    return ck_activate(v, act);
}

#if DENSE_WPT_M != 4 || DENSE_WPT_N != 4
#error "dense_tiled keeps its 4x4 block as four float4 rows: DENSE_WPT_M and DENSE_WPT_N must be 4"
#endif

__attribute__((reqd_work_group_size(DENSE_WG_N, DENSE_WG_M, 1)))
__kernel void dense_tiled(__global const float* restrict a,
                          __global const float* restrict b,
                          __global const float* restrict c,
                          __global float* restrict y,
                          const int M, const int N, const int K,
                          const int TRANS_A, const int TRANS_B,
                          const float ALPHA, const float BETA,
                          const int C_ROW, const int C_COL, const int ACT)
{
    /* Rows padded by 4 floats: 16-byte aligned for the vector reads below, and the loads that
       write down a column land in different local-memory banks. */
    __local float As[DENSE_TILE_K][DENSE_TILE_M + 4];
    __local float Bs[DENSE_TILE_K][DENSE_TILE_N + 4];

    const int tx = get_local_id(0);
    const int ty = get_local_id(1);
    const int tid = ty * DENSE_WG_N + tx;
    const int m0 = get_group_id(1) * DENSE_TILE_M;
    const int n0 = get_group_id(0) * DENSE_TILE_N;

    /* This work-item's block: rows m0 + 4 ty + i (acc_i), columns n0 + 4 tx + 0..3 (the lanes). */
    float4 acc0 = (float4)(0.0f);
    float4 acc1 = (float4)(0.0f);
    float4 acc2 = (float4)(0.0f);
    float4 acc3 = (float4)(0.0f);

    for (int k0 = 0; k0 < K; k0 += DENSE_TILE_K) {
        for (int l = tid; l < DENSE_TILE_M * DENSE_TILE_K; l += DENSE_WG) {
            int mm;
            int kk;
            if (TRANS_A) { /* A [K, M]: contiguous along m */
                kk = l / DENSE_TILE_M;
                mm = l % DENSE_TILE_M;
            } else { /* A [M, K]: contiguous along k */
                mm = l / DENSE_TILE_K;
                kk = l % DENSE_TILE_K;
            }
            const int gm = m0 + mm;
            const int gk = k0 + kk;
            float v = 0.0f;
            if (gm < M && gk < K) {
                v = TRANS_A ? a[gk * M + gm] : a[gm * K + gk];
            }
            As[kk][mm] = v;
        }
        for (int l = tid; l < DENSE_TILE_N * DENSE_TILE_K; l += DENSE_WG) {
            int nn;
            int kk;
            if (TRANS_B) { /* B [N, K]: contiguous along k */
                nn = l / DENSE_TILE_K;
                kk = l % DENSE_TILE_K;
            } else { /* B [K, N]: contiguous along n */
                kk = l / DENSE_TILE_N;
                nn = l % DENSE_TILE_N;
            }
            const int gn = n0 + nn;
            const int gk = k0 + kk;
            float v = 0.0f;
            if (gn < N && gk < K) {
                v = TRANS_B ? b[gn * K + gk] : b[gk * N + gn];
            }
            Bs[kk][nn] = v;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        /* Vector arithmetic even where work-items run one after another (PoCL on CPUs). */
        for (int kk = 0; kk < DENSE_TILE_K; ++kk) {
            const float4 av = vload4(ty, &As[kk][0]);
            const float4 bv = vload4(tx, &Bs[kk][0]);
            acc0 = fma((float4)(av.x), bv, acc0);
            acc1 = fma((float4)(av.y), bv, acc1);
            acc2 = fma((float4)(av.z), bv, acc2);
            acc3 = fma((float4)(av.w), bv, acc3);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    const int mb = m0 + 4 * ty;
    const int nb = n0 + 4 * tx;
    float acc[4][4] = {{acc0.x, acc0.y, acc0.z, acc0.w}, {acc1.x, acc1.y, acc1.z, acc1.w},
                       {acc2.x, acc2.y, acc2.z, acc2.w}, {acc3.x, acc3.y, acc3.z, acc3.w}};
    for (int i = 0; i < 4 && mb + i < M; ++i) {
        for (int j = 0; j < 4 && nb + j < N; ++j) {
            y[(mb + i) * N + nb + j] = dense_finish(acc[i][j], mb + i, nb + j, c, ALPHA, BETA, C_ROW, C_COL, ACT);
        }
    }
}

/*
 * The matrix-vector kernels run their K loop through a helper whose row count MM is a literal at
 * each call site (a switch on M): with MM known the compiler unrolls the loops over rows and
 * keeps the accumulators in registers. A loop bounded by the runtime M kept them in memory and
 * ran 3-5x slower on PoCL.
 */
#if DENSE_SMALL_M > 8
#error "DENSE_SMALL_M is at most 8 (the switches below have 8 cases)"
#endif
#define DENSE_SWITCH_M(CALL) \
    switch (M) { \
    case 1: CALL(1); break; \
    case 2: if (2 <= DENSE_SMALL_M) { CALL(2); } break; \
    case 3: if (3 <= DENSE_SMALL_M) { CALL(3); } break; \
    case 4: if (4 <= DENSE_SMALL_M) { CALL(4); } break; \
    case 5: if (5 <= DENSE_SMALL_M) { CALL(5); } break; \
    case 6: if (6 <= DENSE_SMALL_M) { CALL(6); } break; \
    case 7: if (7 <= DENSE_SMALL_M) { CALL(7); } break; \
    default: if (8 <= DENSE_SMALL_M) { CALL(8); } break; \
    }

/* dense_small_nk's partial sums of rows 0..MM-1 of A' against row `row` of B, over this
   work-item's share of K, stored in part[m * DENSE_SMALL_WG + lid]. Four consecutive k per step
   (vector loads of B and, if not transposed, of A), then the K % 4 tail one k at a time. */
CK_FUNC void dense_small_nk_partials(__global const float* restrict a, __global const float* restrict row,
                                     const int MM, const int M, const int K, const int TRANS_A, const int lid,
                                     __local float* part)
{
    float4 acc4[DENSE_SMALL_M];
    for (int m = 0; m < MM; ++m) {
        acc4[m] = (float4)(0.0f);
    }
    const int k4end = K / 4;
    for (int q = lid; q < k4end; q += DENSE_SMALL_WG) {
        const int k = 4 * q;
        const float4 bv = vload4(q, row);
        for (int m = 0; m < MM; ++m) {
            const float4 av = TRANS_A ? (float4)(a[k * M + m], a[(k + 1) * M + m], a[(k + 2) * M + m], a[(k + 3) * M + m])
                                      : vload4(0, a + m * K + k);
            acc4[m] = fma(av, bv, acc4[m]);
        }
    }
    for (int m = 0; m < MM; ++m) {
        float acc = (acc4[m].x + acc4[m].y) + (acc4[m].z + acc4[m].w);
        for (int k = 4 * k4end + lid; k < K; k += DENSE_SMALL_WG) {
            acc = fma(TRANS_A ? a[k * M + m] : a[m * K + k], row[k], acc);
        }
        part[m * DENSE_SMALL_WG + lid] = acc;
    }
}

__attribute__((reqd_work_group_size(DENSE_SMALL_WG, 1, 1)))
__kernel void dense_small_nk(__global const float* restrict a,
                             __global const float* restrict b,
                             __global const float* restrict c,
                             __global float* restrict y,
                             const int M, const int N, const int K,
                             const int TRANS_A,
                             const float ALPHA, const float BETA,
                             const int C_ROW, const int C_COL, const int ACT)
{
    __local float part[DENSE_SMALL_M * DENSE_SMALL_WG];
    const int lid = get_local_id(0);
    const int n = get_group_id(0);
    __global const float* row = b + n * K;
#define DENSE_NK_CALL(MM) dense_small_nk_partials(a, row, MM, M, K, TRANS_A, lid, part)
    DENSE_SWITCH_M(DENSE_NK_CALL)
#undef DENSE_NK_CALL
    barrier(CLK_LOCAL_MEM_FENCE);
    /* One barrier, then M work-items add up a row of partial sums each: a tree would need a
       barrier per level, and barriers inside loops are costly where work-items are emulated
       (PoCL on CPUs); M * DENSE_SMALL_WG additions are little next to the K loop. */
    if (lid < M) {
        float sum = 0.0f;
        for (int i = 0; i < DENSE_SMALL_WG; ++i) {
            sum += part[lid * DENSE_SMALL_WG + i];
        }
        y[lid * N + n] = dense_finish(sum, lid, n, c, ALPHA, BETA, C_ROW, C_COL, ACT);
    }
}

/* dense_small_kn's partial sums, for rows 0..MM-1 of A', of columns n..n+3 of B over this
   work-item's slice of K (k = ly, ly + DENSE_KN_WY, ...), stored as float4s in
   part[(m * DENSE_KN_WY + ly) * DENSE_KN_WX + lx]. Columns at or past N read as 0. */
CK_FUNC void dense_small_kn_partials(__global const float* restrict a, __global const float* restrict b,
                                     const int MM, const int M, const int N, const int K, const int TRANS_A,
                                     const int n, const int lx, const int ly, __local float4* part)
{
    float4 acc[DENSE_SMALL_M];
    for (int m = 0; m < MM; ++m) {
        acc[m] = (float4)(0.0f);
    }
    const int full = n + 3 < N;
    for (int k = ly; k < K; k += DENSE_KN_WY) {
        __global const float* row = b + k * N + n;
        float4 bv;
        if (full) {
            bv = vload4(0, row);
        } else {
            bv = (float4)(row[0], n + 1 < N ? row[1] : 0.0f, n + 2 < N ? row[2] : 0.0f, 0.0f);
        }
        for (int m = 0; m < MM; ++m) {
            acc[m] = fma((float4)(TRANS_A ? a[k * M + m] : a[m * K + k]), bv, acc[m]);
        }
    }
    for (int m = 0; m < MM; ++m) {
        part[(m * DENSE_KN_WY + ly) * DENSE_KN_WX + lx] = acc[m];
    }
}

__attribute__((reqd_work_group_size(DENSE_KN_WX, DENSE_KN_WY, 1)))
__kernel void dense_small_kn(__global const float* restrict a,
                             __global const float* restrict b,
                             __global const float* restrict c,
                             __global float* restrict y,
                             const int M, const int N, const int K,
                             const int TRANS_A,
                             const float ALPHA, const float BETA,
                             const int C_ROW, const int C_COL, const int ACT)
{
    __local float4 part[DENSE_SMALL_M * DENSE_KN_WY * DENSE_KN_WX];
    const int lx = get_local_id(0);
    const int ly = get_local_id(1);
    const int n0 = get_group_id(0) * (4 * DENSE_KN_WX);
    const int n = n0 + 4 * lx;
    if (n < N) {
#define DENSE_KN_CALL(MM) dense_small_kn_partials(a, b, MM, M, N, K, TRANS_A, n, lx, ly, part)
        DENSE_SWITCH_M(DENSE_KN_CALL)
#undef DENSE_KN_CALL
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    /* Work-item t adds up the DENSE_KN_WY slices of output (m, column t % (4 * WX)). */
    const int t = ly * DENSE_KN_WX + lx;
    for (int o = t; o < M * 4 * DENSE_KN_WX; o += DENSE_KN_WX * DENSE_KN_WY) {
        const int m = o / (4 * DENSE_KN_WX);
        const int col = o % (4 * DENSE_KN_WX);
        const int nn = n0 + col;
        if (nn < N) {
            __local const float* p = (__local const float*) part;
            float sum = 0.0f;
            for (int j = 0; j < DENSE_KN_WY; ++j) {
                sum += p[((m * DENSE_KN_WY + j) * DENSE_KN_WX) * 4 + col];
            }
            y[m * N + nn] = dense_finish(sum, m, nn, c, ALPHA, BETA, C_ROW, C_COL, ACT);
        }
    }
}
