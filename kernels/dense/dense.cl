/*
 * dense: ONNX Gemm, Y = act(ALPHA * A' * B' + BETA * C), float32, row-major.
 *
 *   A' = TRANS_A ? A^T : A, A stored [M, K] or [K, M] (TRANS_A)
 *   B' = TRANS_B ? B^T : B, B stored [K, N] or [N, K] (TRANS_B, the PyTorch Linear layout)
 *   C[m, n] is element m * C_ROW + n * C_COL of c (a stride of 0 repeats a broadcast
 *   dimension: [1], [N], [1,N], [M,1], [M,N] all go through the same code); c NULL = no bias.
 *   y [M, N]; act = ACT (common/convkit.h), applied last.
 *
 * Transposes are index math, decided per launch by TRANS_A / TRANS_B (uniform across a
 * work-group, so the branches cost nothing measurable).
 *
 * Entries:
 * - dense_tiled: the general case. A work-group computes a DENSE_TILE_M x DENSE_TILE_N tile of Y
 *   (local size DENSE_TILE_N/DENSE_WPT_N x DENSE_TILE_M/DENSE_WPT_M); each work-item a
 *   DENSE_WPT_M x DENSE_WPT_N block in registers, its rows and columns strided by the local size
 *   so that neighbouring work-items read neighbouring local memory and write neighbouring
 *   outputs. K advances DENSE_TILE_K at a time through local memory; each tile of A and B is
 *   loaded with the work-items walking the stored matrix's contiguous axis (coalesced whatever
 *   the transposes), zeros outside the matrices. Grid: (ceil(N/TILE_N) * WG_N, ceil(M/TILE_M) * WG_M).
 * - dense_small_nk (M <= DENSE_SMALL_M, TRANS_B): a matrix-vector product in disguise (a batch of
 *   a few rows against a [N, K] weight, e.g. AlexNet's fc6 at batch 1), where a 64-row tile would
 *   waste almost all its work. One work-group per output column n: its DENSE_SMALL_WG work-items
 *   stride through row n of B (contiguous) for all M rows at once, then add up their partial sums
 *   in local memory. Grid: (DENSE_SMALL_WG * N).
 * - dense_small_kn (M <= DENSE_SMALL_M, not TRANS_B): B is [K, N], so a column is strided; one
 *   work-item per output column n walks K, neighbouring work-items reading neighbouring elements
 *   of each row of B. Grid: (roundup(N, DENSE_SMALL_WG)).
 * Every variant reads B exactly once from memory, which bounds small-M layers.
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
#define DENSE_TILE_K 16
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
    /* +1 column: the loads of a non-transposed A write down a column of As; the padding puts
       consecutive work-items in different local-memory banks. */
    __local float As[DENSE_TILE_K][DENSE_TILE_M + 1];
    __local float Bs[DENSE_TILE_K][DENSE_TILE_N + 1];

    const int tx = get_local_id(0);
    const int ty = get_local_id(1);
    const int tid = ty * DENSE_WG_N + tx;
    const int m0 = get_group_id(1) * DENSE_TILE_M;
    const int n0 = get_group_id(0) * DENSE_TILE_N;

    float acc[DENSE_WPT_M][DENSE_WPT_N];
    for (int i = 0; i < DENSE_WPT_M; ++i) {
        for (int j = 0; j < DENSE_WPT_N; ++j) {
            acc[i][j] = 0.0f;
        }
    }

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

        for (int kk = 0; kk < DENSE_TILE_K; ++kk) {
            float av[DENSE_WPT_M];
            float bv[DENSE_WPT_N];
            for (int i = 0; i < DENSE_WPT_M; ++i) {
                av[i] = As[kk][ty + i * DENSE_WG_M];
            }
            for (int j = 0; j < DENSE_WPT_N; ++j) {
                bv[j] = Bs[kk][tx + j * DENSE_WG_N];
            }
            for (int i = 0; i < DENSE_WPT_M; ++i) {
                for (int j = 0; j < DENSE_WPT_N; ++j) {
                    acc[i][j] = fma(av[i], bv[j], acc[i][j]);
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int i = 0; i < DENSE_WPT_M; ++i) {
        const int m = m0 + ty + i * DENSE_WG_M;
        if (m >= M) {
            break;
        }
        for (int j = 0; j < DENSE_WPT_N; ++j) {
            const int n = n0 + tx + j * DENSE_WG_N;
            if (n < N) {
                y[m * N + n] = dense_finish(acc[i][j], m, n, c, ALPHA, BETA, C_ROW, C_COL, ACT);
            }
        }
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
    __local float part[DENSE_SMALL_M][DENSE_SMALL_WG];
    const int lid = get_local_id(0);
    const int n = get_group_id(0);
    __global const float* row = b + n * K;

    float acc[DENSE_SMALL_M];
    for (int m = 0; m < DENSE_SMALL_M; ++m) {
        acc[m] = 0.0f;
    }
    for (int k = lid; k < K; k += DENSE_SMALL_WG) {
        const float bv = row[k];
        for (int m = 0; m < DENSE_SMALL_M; ++m) {
            if (m < M) {
                acc[m] = fma(TRANS_A ? a[k * M + m] : a[m * K + k], bv, acc[m]);
            }
        }
    }
    for (int m = 0; m < DENSE_SMALL_M; ++m) {
        part[m][lid] = acc[m];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = DENSE_SMALL_WG / 2; s > 0; s >>= 1) {
        if (lid < s) {
            for (int m = 0; m < DENSE_SMALL_M; ++m) {
                part[m][lid] += part[m][lid + s];
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid < M) {
        y[lid * N + n] = dense_finish(part[lid][0], lid, n, c, ALPHA, BETA, C_ROW, C_COL, ACT);
    }
}

__attribute__((reqd_work_group_size(DENSE_SMALL_WG, 1, 1)))
__kernel void dense_small_kn(__global const float* restrict a,
                             __global const float* restrict b,
                             __global const float* restrict c,
                             __global float* restrict y,
                             const int M, const int N, const int K,
                             const int TRANS_A,
                             const float ALPHA, const float BETA,
                             const int C_ROW, const int C_COL, const int ACT)
{
    const int n = get_global_id(0);
    if (n >= N) {
        return;
    }
    float acc[DENSE_SMALL_M];
    for (int m = 0; m < DENSE_SMALL_M; ++m) {
        acc[m] = 0.0f;
    }
    for (int k = 0; k < K; ++k) {
        const float bv = b[k * N + n];
        for (int m = 0; m < DENSE_SMALL_M; ++m) {
            if (m < M) {
                acc[m] = fma(TRANS_A ? a[k * M + m] : a[m * K + k], bv, acc[m]);
            }
        }
    }
    for (int m = 0; m < DENSE_SMALL_M && m < M; ++m) {
        y[m * N + n] = dense_finish(acc[m], m, n, c, ALPHA, BETA, C_ROW, C_COL, ACT);
    }
}
