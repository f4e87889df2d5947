/*
 * conv2d_grad: the data and weight gradients of conv2d and conv_transpose2d, float32, NCHW;
 * org.convkit.ops.grad.Conv2dGrad.
 *
 * Both ops relate a small tensor S [N, SC, SH, SW] and a large one L [N, LC, LH, LW] through the
 * same taps: S element (n, f, a, b), f in group g = f / (SC/G), meets L element
 * (n, g*LC/G + q, a*STH - PT + r*DH, b*STW - PL + s*DW) through weight w[f, q, r, s]
 * ([SC, LC/G, KH, KW]) whenever that L position exists. A convolution's output is S and its input
 * L; a transposed convolution's input is S and its output L. The output gradient (S for conv2d, L
 * for conv_transpose2d) is masked by y > 0 when a ReLU was fused: smask / lmask is then y (laid
 * out as the tensor it masks), else NULL.
 *
 *   conv2d_grad_large:  out[n,l,i,j] = sum over (f in l's group, r, s with i = a*STH - PT + r*DH,
 *                       j = b*STW - PL + s*DW for some a < SH, b < SW) of S[n,f,a,b] * w[f,q,r,s]
 *                       (conv2d's input gradient). One work-item per output element: a gather
 *                       over the taps that reach it, so nothing is accumulated across work-items.
 *   conv2d_grad_small:  out[n,f,a,b] = sum over (q, r, s) of L[n, g*LC/G + q, ...] * w[f,q,r,s]
 *                       (conv_transpose2d's input gradient: a convolution with the transposed
 *                       op's pads, which may be negative). One work-item per output element.
 *   conv2d_grad_weight: dw[f,q,r,s] = sum over (n, a, b) of S[n,f,a,b] * L[n, g*LC/G + q, ...].
 *                       One work-group per weight element: each work-item sums every
 *                       CONV2D_GRAD_WEIGHT_WG-th (n, a, b) in order, then a fixed halving tree in local
 *                       memory (error <= (N*SH*SW / WG + log2 WG) unit roundoffs times the sum of
 *                       |terms|). Deterministic: no atomics.
 *   conv2d_grad_weight_tiled, conv2d_grad_large_tiled: the same sums as _weight and _large as
 *                       tiled, register-blocked GEMMs through local memory (see their section
 *                       below); the host (GradLaunches) plans them when the GEMM has at least 8
 *                       rows and columns (so not for depthwise convolutions) and keeps the entries
 *                       above as the fallback.
 * Grids: 1-D; _large roundup(N*LC*LH*LW, WG), _small roundup(N*SC*SH*SW, WG), _weight
 * SC*(LC/G)*KH*KW*CONV2D_GRAD_WEIGHT_WG; the tiled entries' below. Indices are 32-bit: the host
 * refuses tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef CONV2D_GRAD_WG
#define CONV2D_GRAD_WG 256
#endif
/* Smaller groups for the weight sums: fewer barrier steps per weight, more terms per work-item. */
#ifndef CONV2D_GRAD_WEIGHT_WG
#define CONV2D_GRAD_WEIGHT_WG 64
#endif

/* v, or 0 where a fused ReLU's output m (when there is a mask) was not positive. */
inline float conv2d_grad_masked(__global const float* restrict v, __global const float* restrict m, int i)
{
    return (m != 0 && !(m[i] > 0.0f)) ? 0.0f : v[i];
}

__attribute__((reqd_work_group_size(CONV2D_GRAD_WG, 1, 1)))
__kernel void conv2d_grad_large(__global const float* restrict s,
                                __global const float* restrict smask,
                                __global const float* restrict w,
                                __global float* restrict out,
                                const int N, const int SC, const int SH, const int SW,
                                const int LC, const int LH, const int LW,
                                const int KH, const int KW, const int STH, const int STW,
                                const int DH, const int DW, const int PT, const int PL, const int G)
{
    const int i = get_global_id(0);
    if (i >= N * LC * LH * LW) {
        return;
    }
    const int j = i % LW;
    int t = i / LW;
    const int ih = t % LH;
    t /= LH;
    const int l = t % LC;
    const int n = t / LC;
    const int lcg = LC / G;
    const int scg = SC / G;
    const int g = l / lcg;
    const int q = l - g * lcg;
    float acc = 0.0f;
    for (int r = 0; r < KH; ++r) {
        const int ra = ih + PT - r * DH;
        if (ra < 0) {
            break;
        }
        if (ra % STH != 0 || ra / STH >= SH) {
            continue;
        }
        const int a = ra / STH;
        for (int c = 0; c < KW; ++c) {
            const int cb = j + PL - c * DW;
            if (cb < 0) {
                break;
            }
            if (cb % STW != 0 || cb / STW >= SW) {
                continue;
            }
            const int b = cb / STW;
            for (int fi = 0; fi < scg; ++fi) {
                const int f = g * scg + fi;
                acc += conv2d_grad_masked(s, smask, ((n * SC + f) * SH + a) * SW + b)
                       * w[((f * lcg + q) * KH + r) * KW + c];
            }
        }
    }
    out[i] = acc;
}

__attribute__((reqd_work_group_size(CONV2D_GRAD_WG, 1, 1)))
__kernel void conv2d_grad_small(__global const float* restrict l,
                                __global const float* restrict lmask,
                                __global const float* restrict w,
                                __global float* restrict out,
                                const int N, const int SC, const int SH, const int SW,
                                const int LC, const int LH, const int LW,
                                const int KH, const int KW, const int STH, const int STW,
                                const int DH, const int DW, const int PT, const int PL, const int G)
{
    const int i = get_global_id(0);
    if (i >= N * SC * SH * SW) {
        return;
    }
    const int b = i % SW;
    int t = i / SW;
    const int a = t % SH;
    t /= SH;
    const int f = t % SC;
    const int n = t / SC;
    const int lcg = LC / G;
    const int g = f / (SC / G);
    float acc = 0.0f;
    for (int q = 0; q < lcg; ++q) {
        const int plane = (n * LC + g * lcg + q) * LH;
        for (int r = 0; r < KH; ++r) {
            const int ih = a * STH - PT + r * DH;
            if (ih < 0 || ih >= LH) {
                continue;
            }
            for (int c = 0; c < KW; ++c) {
                const int iw = b * STW - PL + c * DW;
                if (iw < 0 || iw >= LW) {
                    continue;
                }
                acc += conv2d_grad_masked(l, lmask, (plane + ih) * LW + iw) * w[((f * lcg + q) * KH + r) * KW + c];
            }
        }
    }
    out[i] = acc;
}

__attribute__((reqd_work_group_size(CONV2D_GRAD_WEIGHT_WG, 1, 1)))
__kernel void conv2d_grad_weight(__global const float* restrict s,
                                 __global const float* restrict smask,
                                 __global const float* restrict l,
                                 __global const float* restrict lmask,
                                 __global float* restrict dw,
                                 const int N, const int SC, const int SH, const int SW,
                                 const int LC, const int LH, const int LW,
                                 const int KH, const int KW, const int STH, const int STW,
                                 const int DH, const int DW, const int PT, const int PL, const int G)
{
    __local float part[CONV2D_GRAD_WEIGHT_WG];
    const int wi = get_group_id(0);
    const int lid = get_local_id(0);
    const int lcg = LC / G;
    const int c = wi % KW;
    int t = wi / KW;
    const int r = t % KH;
    t /= KH;
    const int q = t % lcg;
    const int f = t / lcg;
    const int lc = (f / (SC / G)) * lcg + q;
    const int total = N * SH * SW;
    float acc = 0.0f;
    /* (n, a, b) of e, advanced by CONV2D_GRAD_WEIGHT_WG each step without a division per element. */
    const int stepRows = CONV2D_GRAD_WEIGHT_WG / SW;
    const int stepCols = CONV2D_GRAD_WEIGHT_WG % SW;
    int b = lid % SW;
    int a = (lid / SW) % SH;
    int n = lid / (SW * SH);
    for (int e = lid; e < total; e += CONV2D_GRAD_WEIGHT_WG) {
        const int ih = a * STH - PT + r * DH;
        const int iw = b * STW - PL + c * DW;
        if (ih >= 0 && ih < LH && iw >= 0 && iw < LW) {
            acc += conv2d_grad_masked(s, smask, ((n * SC + f) * SH + a) * SW + b)
                   * conv2d_grad_masked(l, lmask, ((n * LC + lc) * LH + ih) * LW + iw);
        }
        b += stepCols;
        a += stepRows;
        if (b >= SW) {
            b -= SW;
            a += 1;
        }
        if (a >= SH) {
            n += a / SH;
            a %= SH;
        }
    }
    part[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int step = CONV2D_GRAD_WEIGHT_WG / 2; step > 0; step >>= 1) {
        if (lid < step) {
            part[lid] += part[lid + step];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        dw[wi] = part[0];
    }
}

/* ---- The tiled GEMM forms: conv2d_grad_weight_tiled, conv2d_grad_large_tiled ----------------
 * Both are C[M, N] = sum over K of A[M, K] * B[K, N], chunk by chunk of CONV2D_GRAD_KC terms: the
 * chunk's A (as[m][k]) and B (bs[k][n]) are copied into local memory, zero where a term does not
 * exist, then each work-item adds a register block of CONV2D_GRAD_RM rows x CONV2D_GRAD_RN adjacent
 * columns (a vector) over the chunk's k in order, into partial sums (part_i) added to the running
 * ones (acc_i) after the chunk: the running ones live across barriers, which on PoCL means in
 * memory, while the partial ones stay in registers. Per output element the order of the terms is
 * therefore fixed by the tile sizes alone: deterministic, no atomics.
 * A work-group owns CONV2D_GRAD_TM rows x CONV2D_GRAD_TN columns; local
 * (CONV2D_GRAD_WGX, CONV2D_GRAD_WGM, 1) = (TN/RN, TM/RM, 1); local memory (TM + TN) * KC floats.
 * A work-item whose block lies wholly past the last row or column skips the arithmetic (it still
 * copies and meets the barriers).
 */
#ifndef CONV2D_GRAD_TM
#define CONV2D_GRAD_TM 64
#endif
#ifndef CONV2D_GRAD_TN
#define CONV2D_GRAD_TN 64
#endif
#ifndef CONV2D_GRAD_KC
#define CONV2D_GRAD_KC 64
#endif
/* The register block: fixed at 8 rows x float16 (one AVX-512 register per row on a CPU). */
#define CONV2D_GRAD_RM 8
#define CONV2D_GRAD_RN 16
#define CONV2D_GRAD_WGX (CONV2D_GRAD_TN / CONV2D_GRAD_RN)
#define CONV2D_GRAD_WGM (CONV2D_GRAD_TM / CONV2D_GRAD_RM)
#define CONV2D_GRAD_TG (CONV2D_GRAD_WGX * CONV2D_GRAD_WGM)
#if CONV2D_GRAD_TM % CONV2D_GRAD_RM != 0 || CONV2D_GRAD_TN % CONV2D_GRAD_RN != 0
#error "conv2d_grad: CONV2D_GRAD_TM and CONV2D_GRAD_TN must be multiples of 8 and 16"
#endif

/* Named accumulators (private arrays indexed in loops stayed in memory on PoCL). */
#define CONV2D_GRAD_REP(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define CONV2D_GRAD_DECL(i) float16 acc_##i = (float16)(0.0f);
#define CONV2D_GRAD_ZERO(i) float16 part_##i = (float16)(0.0f);
#define CONV2D_GRAD_FMA(i) part_##i = fma((float16)(ap[(i) * CONV2D_GRAD_KC]), bv, part_##i);
#define CONV2D_GRAD_ADD(i) acc_##i += part_##i;

/* The chunk's products: part_i over k < nk, as[rowL + i][k] times bs[k][colL .. colL + 15]. */
#define CONV2D_GRAD_CHUNK(busy, nk)                                              \
    CONV2D_GRAD_REP(CONV2D_GRAD_ZERO)                                            \
    if (busy) {                                                                  \
        __local const float* ap = as + rowL * CONV2D_GRAD_KC;                    \
        __local const float* bp = bs + colL;                                     \
        for (int k = 0; k < (nk); ++k) {                                         \
            const float16 bv = vload16(0, bp);                                   \
            CONV2D_GRAD_REP(CONV2D_GRAD_FMA)                                     \
            ++ap;                                                                \
            bp += CONV2D_GRAD_TN;                                                \
        }                                                                        \
    }                                                                            \
    CONV2D_GRAD_REP(CONV2D_GRAD_ADD)

/*
 * conv2d_grad_weight_tiled: dw as a GEMM, M = f (the S channels of group g), N = j = (q, r, c)
 * (the L channel of the group and the tap: dw's own layout, so a row of the block is 16 adjacent
 * weights), K = (n, a, b), one image at a time in chunks of KC output pixels.
 * A = S (masked), rows copied as they lie; B = L gathered at (a*STH - PT + r*DH, b*STW - PL + c*DW),
 * 0 outside L. Grid (ceil(JN/TN) * WGX, ceil((SC/G)/TM) * WGM, G), JN = (LC/G)*KH*KW.
 */
__attribute__((reqd_work_group_size(CONV2D_GRAD_WGX, CONV2D_GRAD_WGM, 1)))
__kernel void conv2d_grad_weight_tiled(__global const float* restrict s,
                                       __global const float* restrict smask,
                                       __global const float* restrict l,
                                       __global const float* restrict lmask,
                                       __global float* restrict dw,
                                       const int N, const int SC, const int SH, const int SW,
                                       const int LC, const int LH, const int LW,
                                       const int KH, const int KW, const int STH, const int STW,
                                       const int DH, const int DW, const int PT, const int PL, const int G)
{
    __local float as[CONV2D_GRAD_TM * CONV2D_GRAD_KC];
    __local float bs[CONV2D_GRAD_KC * CONV2D_GRAD_TN];
    const int tx = get_local_id(0);
    const int ty = get_local_id(1);
    const int tid = ty * CONV2D_GRAD_WGX + tx;
    const int lcg = LC / G;
    const int scg = SC / G;
    const int kk = KH * KW;
    const int jn = lcg * kk;
    const int g = get_group_id(2);
    const int j0 = get_group_id(0) * CONV2D_GRAD_TN;
    const int m0 = get_group_id(1) * CONV2D_GRAD_TM;
    const int colL = tx * CONV2D_GRAD_RN;
    const int rowL = ty * CONV2D_GRAD_RM;
    const bool busy = m0 + rowL < scg && j0 + colL < jn;
    const int P = SH * SW;
    CONV2D_GRAD_REP(CONV2D_GRAD_DECL)
    for (int n = 0; n < N; ++n) {
        for (int p0 = 0; p0 < P; p0 += CONV2D_GRAD_KC) {
            const int nk = min(CONV2D_GRAD_KC, P - p0);
            for (int m = tid; m < CONV2D_GRAD_TM; m += CONV2D_GRAD_TG) {
                __local float* dst = as + m * CONV2D_GRAD_KC;
                if (m0 + m < scg) {
                    const int base = (n * SC + g * scg + m0 + m) * P + p0;
                    for (int k = 0; k < nk; ++k) {
                        dst[k] = conv2d_grad_masked(s, smask, base + k);
                    }
                } else {
                    for (int k = 0; k < nk; ++k) {
                        dst[k] = 0.0f;
                    }
                }
            }
            const int a0 = p0 / SW;
            const int b0 = p0 - a0 * SW;
            for (int jj = tid; jj < CONV2D_GRAD_TN; jj += CONV2D_GRAD_TG) {
                __local float* dst = bs + jj;
                const int j = j0 + jj;
                if (j < jn) {
                    const int q = j / kk;
                    const int r = (j - q * kk) / KW;
                    const int c = j - q * kk - r * KW;
                    const int base = (n * LC + g * lcg + q) * LH * LW;
                    const int roff = r * DH - PT;
                    const int coff = c * DW - PL;
                    int a = a0;
                    int b = b0;
                    for (int k = 0; k < nk; ++k) {
                        const int ih = a * STH + roff;
                        const int iw = b * STW + coff;
                        dst[k * CONV2D_GRAD_TN] = (ih >= 0 && ih < LH && iw >= 0 && iw < LW)
                                ? conv2d_grad_masked(l, lmask, base + ih * LW + iw) : 0.0f;
                        if (++b == SW) {
                            b = 0;
                            ++a;
                        }
                    }
                } else {
                    for (int k = 0; k < nk; ++k) {
                        dst[k * CONV2D_GRAD_TN] = 0.0f;
                    }
                }
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            CONV2D_GRAD_CHUNK(busy, nk)
            barrier(CLK_LOCAL_MEM_FENCE);
        }
    }
#define CONV2D_GRAD_STORE_W(i)                                                     \
    if (m0 + rowL + (i) < scg && j0 + colL < jn) {                                 \
        float t[CONV2D_GRAD_RN];                                                   \
        vstore16(acc_##i, 0, t);                                                   \
        __global float* dp = dw + (g * scg + m0 + rowL + (i)) * jn + j0 + colL;    \
        for (int x = 0; x < min(CONV2D_GRAD_RN, jn - j0 - colL); ++x) {            \
            dp[x] = t[x];                                                          \
        }                                                                          \
    }
    CONV2D_GRAD_REP(CONV2D_GRAD_STORE_W)
}

/* The least p >= 1 with p * d a multiple of st: taps p apart share a stride phase. */
inline int conv2d_grad_period(const int st, const int d)
{
    int p = 1;
    while ((p * d) % st != 0) {
        ++p;
    }
    return p;
}

/* The first tap t < k with (ph + pad - t * d) a multiple of st, or k when there is none. */
inline int conv2d_grad_first_tap(const int ph, const int pad, const int st, const int d, const int k)
{
    for (int t = 0; t < k; ++t) {
        const int v = (ph + pad - t * d) % st;
        if (v == 0) {
            return t;
        }
    }
    return k;
}

/*
 * conv2d_grad_large_tiled: a convolution's input gradient, split by stride phase. The L positions
 * (ph + STH*u, pw + STW*v) of one phase are reached by the same taps: rows r = r0 + i*pr (those with
 * ph + PT - r*DH a multiple of STH), columns likewise, from S position (u + dr, v + dc),
 * dr = (ph + PT - r*DH) / STH. Per image, group and phase a GEMM: M = l (the L channels of the
 * group), N = (u, v) in tiles of WGX rows x RN columns (work-item tx owns row u0 + tx), K = (f, the
 * phase's taps). A = w[f, l, r, c] gathered; B = S (masked) rows shifted by (dr, dc), 0 outside S.
 * A phase without taps gets zeros. Grid (ceil(ceil(LH/STH)/WGX) * ceil(ceil(LW/STW)/RN) * WGX,
 * ceil((LC/G)/TM) * WGM, N * G * STH * STW).
 */
__attribute__((reqd_work_group_size(CONV2D_GRAD_WGX, CONV2D_GRAD_WGM, 1)))
__kernel void conv2d_grad_large_tiled(__global const float* restrict s,
                                      __global const float* restrict smask,
                                      __global const float* restrict w,
                                      __global float* restrict out,
                                      const int N, const int SC, const int SH, const int SW,
                                      const int LC, const int LH, const int LW,
                                      const int KH, const int KW, const int STH, const int STW,
                                      const int DH, const int DW, const int PT, const int PL, const int G)
{
    __local float as[CONV2D_GRAD_TM * CONV2D_GRAD_KC];
    __local float bs[CONV2D_GRAD_KC * CONV2D_GRAD_TN];
    const int tx = get_local_id(0);
    const int ty = get_local_id(1);
    const int tid = ty * CONV2D_GRAD_WGX + tx;
    const int lcg = LC / G;
    const int scg = SC / G;
    const int phases = STH * STW;
    const int z = get_group_id(2);
    const int phase = z % phases;
    const int g = (z / phases) % G;
    const int n = z / (phases * G);
    const int ph = phase / STW;
    const int pw = phase - ph * STW;
    const int pu = ph < LH ? (LH - ph + STH - 1) / STH : 0;
    const int pv = pw < LW ? (LW - pw + STW - 1) / STW : 0;
    const int tilesV = ((LW + STW - 1) / STW + CONV2D_GRAD_RN - 1) / CONV2D_GRAD_RN;
    const int u0 = (get_group_id(0) / tilesV) * CONV2D_GRAD_WGX;
    const int v0 = (get_group_id(0) % tilesV) * CONV2D_GRAD_RN;
    const int m0 = get_group_id(1) * CONV2D_GRAD_TM;
    const int colL = tx * CONV2D_GRAD_RN;
    const int rowL = ty * CONV2D_GRAD_RM;
    const int pr = conv2d_grad_period(STH, DH);
    const int pc = conv2d_grad_period(STW, DW);
    const int r0 = conv2d_grad_first_tap(ph, PT, STH, DH, min(KH, pr));
    const int c0 = conv2d_grad_first_tap(pw, PL, STW, DW, min(KW, pc));
    const int nr = r0 < KH && r0 < pr ? (KH - 1 - r0) / pr + 1 : 0;
    const int nc = c0 < KW && c0 < pc ? (KW - 1 - c0) / pc + 1 : 0;
    const int taps = nr * nc;
    const int K = scg * taps;
    const int u = u0 + tx;
    const bool busy = m0 + rowL < lcg && u < pu && v0 < pv;
    CONV2D_GRAD_REP(CONV2D_GRAD_DECL)
    for (int k0 = 0; k0 < K; k0 += CONV2D_GRAD_KC) {
        const int nk = min(CONV2D_GRAD_KC, K - k0);
        const int fStart = k0 / taps;
        const int tStart = k0 - fStart * taps;
        for (int m = tid; m < CONV2D_GRAD_TM; m += CONV2D_GRAD_TG) {
            __local float* dst = as + m * CONV2D_GRAD_KC;
            if (m0 + m < lcg) {
                /* (f, tr, tc) of k, advanced without a division per element. */
                int f = fStart;
                int tr = tStart / nc;
                int tc = tStart - tr * nc;
                for (int k = 0; k < nk; ++k) {
                    dst[k] = w[(((g * scg + f) * lcg + m0 + m) * KH + r0 + tr * pr) * KW + c0 + tc * pc];
                    if (++tc == nc) {
                        tc = 0;
                        if (++tr == nr) {
                            tr = 0;
                            ++f;
                        }
                    }
                }
            } else {
                for (int k = 0; k < nk; ++k) {
                    dst[k] = 0.0f;
                }
            }
        }
        for (int row = tid; row < nk * CONV2D_GRAD_WGX; row += CONV2D_GRAD_TG) {
            const int k = row / CONV2D_GRAD_WGX;
            const int uu = row - k * CONV2D_GRAD_WGX;
            const int f = (k0 + k) / taps;
            const int t = k0 + k - f * taps;
            const int tr = t / nc;
            const int r = r0 + tr * pr;
            const int c = c0 + (t - tr * nc) * pc;
            const int a = u0 + uu + (ph + PT - r * DH) / STH;
            const int b0 = v0 + (pw + PL - c * DW) / STW;
            __local float* dst = bs + k * CONV2D_GRAD_TN + uu * CONV2D_GRAD_RN;
            if (a >= 0 && a < SH) {
                const int base = ((n * SC + g * scg + f) * SH + a) * SW;
                for (int x = 0; x < CONV2D_GRAD_RN; ++x) {
                    const int b = b0 + x;
                    dst[x] = (b >= 0 && b < SW) ? conv2d_grad_masked(s, smask, base + b) : 0.0f;
                }
            } else {
                for (int x = 0; x < CONV2D_GRAD_RN; ++x) {
                    dst[x] = 0.0f;
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        CONV2D_GRAD_CHUNK(busy, nk)
        barrier(CLK_LOCAL_MEM_FENCE);
    }
#define CONV2D_GRAD_STORE_L(i)                                                                     \
    if (m0 + rowL + (i) < lcg && u < pu && v0 < pv) {                                              \
        float t[CONV2D_GRAD_RN];                                                                   \
        vstore16(acc_##i, 0, t);                                                                   \
        __global float* op = out + ((n * LC + g * lcg + m0 + rowL + (i)) * LH + ph + u * STH) * LW + pw; \
        for (int x = 0; x < min(CONV2D_GRAD_RN, pv - v0); ++x) {                                   \
            op[(v0 + x) * STW] = t[x];                                                             \
        }                                                                                          \
    }
    CONV2D_GRAD_REP(CONV2D_GRAD_STORE_L)
}
