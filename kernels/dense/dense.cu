/*
 * dense: ONNX Gemm, Y = act(ALPHA * A' * B' + BETA * C), float32, row-major; the CUDA twin of
 * dense.cl (same entries, arguments, grids and results; see common/cuda_compat.h).
 *
 *   A' = TRANS_A ? A^T : A (A stored [M, K] or [K, M]); B' = TRANS_B ? B^T : B (B stored [K, N] or
 *   [N, K]); C[m, n] is element m * C_ROW + n * C_COL of c (stride 0 broadcasts), c NULL = no
 *   bias; y [M, N]; act = ACT, applied last. Transposes are index math on uniform arguments.
 *
 * Entries (the .cl's, with its summation orders, so results agree bit for bit):
 * - dense_tiled: a block computes a DENSE_TILE_M x DENSE_TILE_N tile of Y, blocks of
 *   (DENSE_TILE_N/4, DENSE_TILE_M/4) threads, each a 4x4 block of outputs in registers (four
 *   float4 rows), fed per k by one 16-byte shared-memory read of A (a broadcast across the
 *   threads of one row) and one of B (a half-warp reads 256 contiguous bytes). K advances
 *   DENSE_TILE_K at a time through shared memory, each tile loaded with the threads walking the
 *   stored matrix's contiguous axis (coalesced whatever the transposes), zeros outside.
 *   Grid: (ceil(N / DENSE_TILE_N), ceil(M / DENSE_TILE_M)) blocks.
 * - dense_small_nk (M <= DENSE_SMALL_M, TRANS_B): one block of DENSE_SMALL_WG threads per output
 *   column n, striding through row n of B for all M rows at once, then M threads add the partial
 *   sums from shared memory in the .cl's order. Grid: N blocks.
 * - dense_small_kn (M <= DENSE_SMALL_M, not TRANS_B): blocks of (DENSE_KN_WX, DENSE_KN_WY), each
 *   thread four adjacent columns over one of DENSE_KN_WY interleaved slices of K, the slices added
 *   from shared memory. Grid: (ceil(N / (4 * DENSE_KN_WX)), 1) blocks.
 * The matrix-vector entries' row count is a template argument (a switch on M picks the
 * instantiation), so their accumulators stay in registers. OpenCL's vload4 takes any float
 * alignment, CUDA's float4 loads need 16 bytes: rows of A and B in global memory (K or N floats
 * apart) are read as four scalars; the shared-memory tiles, aligned, as float4.
 * Built with (the host launches with exactly these): DENSE_TILE_M 64, DENSE_TILE_N 64,
 * DENSE_TILE_K 32, DENSE_WPT_M 4, DENSE_WPT_N 4, DENSE_SMALL_M 8, DENSE_SMALL_WG 64,
 * DENSE_KN_WX 16, DENSE_KN_WY 16.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

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

#if DENSE_WPT_M != 4 || DENSE_WPT_N != 4
#error "dense_tiled keeps its 4x4 block as four float4 rows: DENSE_WPT_M and DENSE_WPT_N must be 4"
#endif
#if DENSE_SMALL_M > 8
#error "DENSE_SMALL_M is at most 8 (the switches below have 8 cases)"
#endif

/* OpenCL's fma((float4)(s), b, acc): one fmaf per lane. */
CK_FUNC float4 dense_fma4(float s, float4 b, float4 acc)
{
    return make_float4(fmaf(s, b.x, acc.x), fmaf(s, b.y, acc.y), fmaf(s, b.z, acc.z), fmaf(s, b.w, acc.w));
}

/* OpenCL's fma(a, b, acc) on float4s. */
CK_FUNC float4 dense_fma4v(float4 a, float4 b, float4 acc)
{
    return make_float4(fmaf(a.x, b.x, acc.x), fmaf(a.y, b.y, acc.y), fmaf(a.z, b.z, acc.z), fmaf(a.w, b.w, acc.w));
}

/* Four consecutive floats from global memory at any float alignment (OpenCL's vload4(0, p)). */
CK_FUNC float4 dense_load4(const float* __restrict__ p)
{
    return make_float4(p[0], p[1], p[2], p[3]);
}

/* Lane j of v, for j a constant after unrolling. */
CK_FUNC float dense_lane(float4 v, int j)
{
    return j == 0 ? v.x : (j == 1 ? v.y : (j == 2 ? v.z : v.w));
}

/* alpha * sum, plus beta * C[m, n] when there is a bias, then the activation. */
CK_FUNC float dense_finish(float sum, int m, int n, const float* __restrict__ c, float alpha, float beta,
                           int cRow, int cCol, int act)
{
    float v = alpha * sum;
    if (c != 0) {
        v = fmaf(beta, c[m * cRow + n * cCol], v);
    }
    return ck_activate(v, act);
}

extern "C" __global__ void __launch_bounds__(DENSE_WG)
dense_tiled(const float* __restrict__ a, const float* __restrict__ b, const float* __restrict__ c,
            float* __restrict__ y,
            const int M, const int N, const int K,
            const int TRANS_A, const int TRANS_B,
            const float ALPHA, const float BETA,
            const int C_ROW, const int C_COL, const int ACT)
{
    /* Rows padded by 4 floats, keeping them 16-byte aligned for the float4 reads. */
    __shared__ __align__(16) float As[DENSE_TILE_K][DENSE_TILE_M + 4];
    __shared__ __align__(16) float Bs[DENSE_TILE_K][DENSE_TILE_N + 4];

    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int tid = ty * DENSE_WG_N + tx;
    const int m0 = blockIdx.y * DENSE_TILE_M;
    const int n0 = blockIdx.x * DENSE_TILE_N;

    /* This thread's block: rows m0 + 4 ty + i (acc[i]), columns n0 + 4 tx + 0..3 (the lanes). */
    float4 acc[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        acc[i] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
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
        __syncthreads();

#pragma unroll 8
        for (int kk = 0; kk < DENSE_TILE_K; ++kk) {
            const float4 av = reinterpret_cast<const float4*>(&As[kk][0])[ty];
            const float4 bv = reinterpret_cast<const float4*>(&Bs[kk][0])[tx];
            acc[0] = dense_fma4(av.x, bv, acc[0]);
            acc[1] = dense_fma4(av.y, bv, acc[1]);
            acc[2] = dense_fma4(av.z, bv, acc[2]);
            acc[3] = dense_fma4(av.w, bv, acc[3]);
        }
        __syncthreads();
    }

    const int mb = m0 + 4 * ty;
    const int nb = n0 + 4 * tx;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            if (mb + i < M && nb + j < N) {
                y[(mb + i) * N + nb + j] =
                        dense_finish(dense_lane(acc[i], j), mb + i, nb + j, c, ALPHA, BETA, C_ROW, C_COL, ACT);
            }
        }
    }
}

/* The matrix-vector kernels' row count as a compile-time constant: a switch on M. */
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

/* Row stride of dense_small_nk's partial sums in shared memory: one float more than a block, so
   that the M threads adding up one row each read different banks. */
#define DENSE_NK_STRIDE (DENSE_SMALL_WG + 1)

/* dense_small_nk's partial sums of rows 0..MM-1 of A' against row `row` of B, over this thread's
   share of K, stored in part[m * DENSE_NK_STRIDE + lid]: four consecutive k per step, then the
   K % 4 tail one k at a time, as the .cl. */
template <int MM>
__device__ __forceinline__ void dense_small_nk_partials(const float* __restrict__ a, const float* __restrict__ row,
                                                        const int M, const int K, const int TRANS_A,
                                                        const int lid, float* part)
{
    float4 acc4[MM];
#pragma unroll
    for (int m = 0; m < MM; ++m) {
        acc4[m] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    }
    const int k4end = K / 4;
    for (int q = lid; q < k4end; q += DENSE_SMALL_WG) {
        const int k = 4 * q;
        const float4 bv = dense_load4(row + k);
#pragma unroll
        for (int m = 0; m < MM; ++m) {
            const float4 av = TRANS_A ? make_float4(a[k * M + m], a[(k + 1) * M + m], a[(k + 2) * M + m], a[(k + 3) * M + m])
                                      : dense_load4(a + m * K + k);
            acc4[m] = dense_fma4v(av, bv, acc4[m]);
        }
    }
#pragma unroll
    for (int m = 0; m < MM; ++m) {
        float acc = (acc4[m].x + acc4[m].y) + (acc4[m].z + acc4[m].w);
        for (int k = 4 * k4end + lid; k < K; k += DENSE_SMALL_WG) {
            acc = fmaf(TRANS_A ? a[k * M + m] : a[m * K + k], row[k], acc);
        }
        part[m * DENSE_NK_STRIDE + lid] = acc;
    }
}

/* At least 12 blocks per SM: ptxas then allows 85 registers and the 8-row instantiation fits
   (80) with no spill, where a bound on the block size alone capped it at 56 on sm_90 and spilled. */
extern "C" __global__ void __launch_bounds__(DENSE_SMALL_WG, 12)
dense_small_nk(const float* __restrict__ a, const float* __restrict__ b, const float* __restrict__ c,
               float* __restrict__ y,
               const int M, const int N, const int K,
               const int TRANS_A,
               const float ALPHA, const float BETA,
               const int C_ROW, const int C_COL, const int ACT)
{
    __shared__ float part[DENSE_SMALL_M * DENSE_NK_STRIDE];
    const int lid = threadIdx.x;
    const int n = blockIdx.x;
    const float* row = b + n * K;
#define DENSE_NK_CALL(MM) dense_small_nk_partials<MM>(a, row, M, K, TRANS_A, lid, part)
    DENSE_SWITCH_M(DENSE_NK_CALL)
#undef DENSE_NK_CALL
    __syncthreads();
    /* M threads add up a row of partial sums each, in order, as the .cl does. */
    if (lid < M) {
        float sum = 0.0f;
        for (int i = 0; i < DENSE_SMALL_WG; ++i) {
            sum += part[lid * DENSE_NK_STRIDE + i];
        }
        y[lid * N + n] = dense_finish(sum, lid, n, c, ALPHA, BETA, C_ROW, C_COL, ACT);
    }
}

/* dense_small_kn's partial sums, for rows 0..MM-1 of A', of columns n..n+3 of B over this thread's
   slice of K (k = ly, ly + DENSE_KN_WY, ...), stored as float4s in
   part[(m * DENSE_KN_WY + ly) * DENSE_KN_WX + lx]. Columns at or past N read as 0. */
template <int MM>
__device__ __forceinline__ void dense_small_kn_partials(const float* __restrict__ a, const float* __restrict__ b,
                                                        const int M, const int N, const int K, const int TRANS_A,
                                                        const int n, const int lx, const int ly, float4* part)
{
    float4 acc[MM];
#pragma unroll
    for (int m = 0; m < MM; ++m) {
        acc[m] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    }
    const bool full = n + 3 < N;
    for (int k = ly; k < K; k += DENSE_KN_WY) {
        const float* row = b + k * N + n;
        const float4 bv = full ? dense_load4(row)
                               : make_float4(row[0], n + 1 < N ? row[1] : 0.0f, n + 2 < N ? row[2] : 0.0f, 0.0f);
#pragma unroll
        for (int m = 0; m < MM; ++m) {
            acc[m] = dense_fma4(TRANS_A ? a[k * M + m] : a[m * K + k], bv, acc[m]);
        }
    }
#pragma unroll
    for (int m = 0; m < MM; ++m) {
        part[(m * DENSE_KN_WY + ly) * DENSE_KN_WX + lx] = acc[m];
    }
}

extern "C" __global__ void __launch_bounds__(DENSE_KN_WX * DENSE_KN_WY)
dense_small_kn(const float* __restrict__ a, const float* __restrict__ b, const float* __restrict__ c,
               float* __restrict__ y,
               const int M, const int N, const int K,
               const int TRANS_A,
               const float ALPHA, const float BETA,
               const int C_ROW, const int C_COL, const int ACT)
{
    __shared__ float4 part[DENSE_SMALL_M * DENSE_KN_WY * DENSE_KN_WX];
    const int lx = threadIdx.x;
    const int ly = threadIdx.y;
    const int n0 = blockIdx.x * (4 * DENSE_KN_WX);
    const int n = n0 + 4 * lx;
    if (n < N) {
#define DENSE_KN_CALL(MM) dense_small_kn_partials<MM>(a, b, M, N, K, TRANS_A, n, lx, ly, part)
        DENSE_SWITCH_M(DENSE_KN_CALL)
#undef DENSE_KN_CALL
    }
    __syncthreads();
    /* Thread t adds up the DENSE_KN_WY slices of output (m, column t % (4 * WX)), in order. */
    const int t = ly * DENSE_KN_WX + lx;
    const float* p = reinterpret_cast<const float*>(part);
    for (int o = t; o < M * 4 * DENSE_KN_WX; o += DENSE_KN_WX * DENSE_KN_WY) {
        const int m = o / (4 * DENSE_KN_WX);
        const int col = o % (4 * DENSE_KN_WX);
        const int nn = n0 + col;
        if (nn < N) {
            float sum = 0.0f;
            for (int j = 0; j < DENSE_KN_WY; ++j) {
                sum += p[((m * DENSE_KN_WY + j) * DENSE_KN_WX) * 4 + col];
            }
            y[m * N + nn] = dense_finish(sum, m, nn, c, ALPHA, BETA, C_ROW, C_COL, ACT);
        }
    }
}
