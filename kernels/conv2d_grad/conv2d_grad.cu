/*
 * conv2d_grad: the data and weight gradients of conv2d and conv_transpose2d, float32, NCHW; the
 * CUDA twin of conv2d_grad.cl (same entries, arguments, grids and results; see
 * common/cuda_compat.h). S [N, SC, SH, SW] and L [N, LC, LH, LW] meet through the taps
 * (a*STH - PT + r*DH, b*STW - PL + s*DW), weights [SC, LC/G, KH, KW]:
 *   conv2d_grad_large:  the gradient on L (conv2d's input), a thread per element, gathering;
 *   conv2d_grad_small:  the gradient on S (conv_transpose2d's input), a thread per element;
 *   conv2d_grad_weight: a block per weight element, every CONV2D_GRAD_WEIGHT_WG-th (n, a, b) per thread
 *                       in order, then the .cl's halving tree (ck_block_tree): the same bits.
 *   conv2d_grad_weight_tiled, conv2d_grad_large_tiled: the .cl's tiled GEMMs, the same tiles and
 *                       order of terms (a thread's 8 x 16 block as scalars; sm_90: 170 and 184
 *                       registers, no spills, 48 KiB of shared memory).
 * smask / lmask: a fused ReLU's output masking the output gradient, or NULL.
 * Built with (the host launches with exactly these): CONV2D_GRAD_WG 256, CONV2D_GRAD_WEIGHT_WG 64,
 * CONV2D_GRAD_TM 64, CONV2D_GRAD_TN 64, CONV2D_GRAD_KC 64.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef CONV2D_GRAD_WG
#define CONV2D_GRAD_WG 256
#endif
/* Smaller groups for the weight sums: fewer barrier steps per weight, more terms per work-item. */
#ifndef CONV2D_GRAD_WEIGHT_WG
#define CONV2D_GRAD_WEIGHT_WG 64
#endif

/* v, or 0 where a fused ReLU's output m (when there is a mask) was not positive. */
CK_FUNC float conv2d_grad_masked(const float* __restrict__ v, const float* __restrict__ m, int i)
{
    return (m != 0 && !(m[i] > 0.0f)) ? 0.0f : v[i];
}

extern "C" __global__ void __launch_bounds__(CONV2D_GRAD_WG)
conv2d_grad_large(const float* __restrict__ s,
                                const float* __restrict__ smask,
                                const float* __restrict__ w,
                                float* __restrict__ out,
                                const int N, const int SC, const int SH, const int SW,
                                const int LC, const int LH, const int LW,
                                const int KH, const int KW, const int STH, const int STW,
                                const int DH, const int DW, const int PT, const int PL, const int G)
{
    const int i = ck_global_id_x();
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

extern "C" __global__ void __launch_bounds__(CONV2D_GRAD_WG)
conv2d_grad_small(const float* __restrict__ l,
                                const float* __restrict__ lmask,
                                const float* __restrict__ w,
                                float* __restrict__ out,
                                const int N, const int SC, const int SH, const int SW,
                                const int LC, const int LH, const int LW,
                                const int KH, const int KW, const int STH, const int STW,
                                const int DH, const int DW, const int PT, const int PL, const int G)
{
    const int i = ck_global_id_x();
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
            /* Not unrolled: unrolling it made ptxas spill on sm_90. */
#pragma unroll 1
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

extern "C" __global__ void __launch_bounds__(CONV2D_GRAD_WEIGHT_WG)
conv2d_grad_weight(const float* __restrict__ s,
                                 const float* __restrict__ smask,
                                 const float* __restrict__ l,
                                 const float* __restrict__ lmask,
                                 float* __restrict__ dw,
                                 const int N, const int SC, const int SH, const int SW,
                                 const int LC, const int LH, const int LW,
                                 const int KH, const int KW, const int STH, const int STW,
                                 const int DH, const int DW, const int PT, const int PL, const int G)
{
    __shared__ float part[CONV2D_GRAD_WEIGHT_WG];
    const int wi = blockIdx.x;
    const int lid = threadIdx.x;
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
    /* Not unrolled: unrolling it made ptxas spill on sm_90. */
#pragma unroll 1
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
    acc = ck_block_tree<CONV2D_GRAD_WEIGHT_WG>(acc, part, ck_op_sum());
    if (lid == 0) {
        dw[wi] = acc;
    }
}

/* ---- The tiled GEMM forms (conv2d_grad.cl's comment): the same tiles, chunks and order of terms.
 * A thread's partial sums (part, one chunk) are registers; its running sums live in shared memory
 * (accs), so that 128 + 128 sums do not spill; they are added once per chunk, as the .cl does. */
#ifndef CONV2D_GRAD_TM
#define CONV2D_GRAD_TM 64
#endif
#ifndef CONV2D_GRAD_TN
#define CONV2D_GRAD_TN 64
#endif
#ifndef CONV2D_GRAD_KC
#define CONV2D_GRAD_KC 64
#endif
#define CONV2D_GRAD_RM 8
#define CONV2D_GRAD_RN 16
#define CONV2D_GRAD_WGX (CONV2D_GRAD_TN / CONV2D_GRAD_RN)
#define CONV2D_GRAD_WGM (CONV2D_GRAD_TM / CONV2D_GRAD_RM)
#define CONV2D_GRAD_TG (CONV2D_GRAD_WGX * CONV2D_GRAD_WGM)
#define CONV2D_GRAD_BLOCK (CONV2D_GRAD_RM * CONV2D_GRAD_RN)

/* One chunk: part[i][x] over k < nk of as[rowL + i][k] * bs[k][colL + x], then into the running sums. */
CK_FUNC void conv2d_grad_chunk(const float* as, const float* bs, float* accs, const bool busy, const int nk,
                               const int rowL, const int colL, const int tid)
{
    float part[CONV2D_GRAD_RM][CONV2D_GRAD_RN];
#pragma unroll
    for (int i = 0; i < CONV2D_GRAD_RM; ++i) {
#pragma unroll
        for (int x = 0; x < CONV2D_GRAD_RN; ++x) {
            part[i][x] = 0.0f;
        }
    }
    if (busy) {
        const float* ap = as + rowL * CONV2D_GRAD_KC;
        const float* bp = bs + colL;
#pragma unroll 1
        for (int k = 0; k < nk; ++k) {
            float bv[CONV2D_GRAD_RN];
#pragma unroll
            for (int x = 0; x < CONV2D_GRAD_RN; ++x) {
                bv[x] = bp[x];
            }
#pragma unroll
            for (int i = 0; i < CONV2D_GRAD_RM; ++i) {
                const float av = ap[i * CONV2D_GRAD_KC];
#pragma unroll
                for (int x = 0; x < CONV2D_GRAD_RN; ++x) {
                    part[i][x] = fmaf(av, bv[x], part[i][x]);
                }
            }
            ++ap;
            bp += CONV2D_GRAD_TN;
        }
    }
#pragma unroll
    for (int i = 0; i < CONV2D_GRAD_RM; ++i) {
#pragma unroll
        for (int x = 0; x < CONV2D_GRAD_RN; ++x) {
            accs[(i * CONV2D_GRAD_RN + x) * CONV2D_GRAD_TG + tid] += part[i][x];
        }
    }
}

extern "C" __global__ void __launch_bounds__(CONV2D_GRAD_TG)
conv2d_grad_weight_tiled(const float* __restrict__ s,
                         const float* __restrict__ smask,
                         const float* __restrict__ l,
                         const float* __restrict__ lmask,
                         float* __restrict__ dw,
                         const int N, const int SC, const int SH, const int SW,
                         const int LC, const int LH, const int LW,
                         const int KH, const int KW, const int STH, const int STW,
                         const int DH, const int DW, const int PT, const int PL, const int G)
{
    __shared__ float as[CONV2D_GRAD_TM * CONV2D_GRAD_KC];
    __shared__ float bs[CONV2D_GRAD_KC * CONV2D_GRAD_TN];
    __shared__ float accs[CONV2D_GRAD_BLOCK * CONV2D_GRAD_TG];
    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int tid = ty * CONV2D_GRAD_WGX + tx;
    const int lcg = LC / G;
    const int scg = SC / G;
    const int kk = KH * KW;
    const int jn = lcg * kk;
    const int g = blockIdx.z;
    const int j0 = blockIdx.x * CONV2D_GRAD_TN;
    const int m0 = blockIdx.y * CONV2D_GRAD_TM;
    const int colL = tx * CONV2D_GRAD_RN;
    const int rowL = ty * CONV2D_GRAD_RM;
    const bool busy = m0 + rowL < scg && j0 + colL < jn;
    const int P = SH * SW;
    for (int e = 0; e < CONV2D_GRAD_BLOCK; ++e) {
        accs[e * CONV2D_GRAD_TG + tid] = 0.0f;
    }
    for (int n = 0; n < N; ++n) {
        for (int p0 = 0; p0 < P; p0 += CONV2D_GRAD_KC) {
            const int nk = min(CONV2D_GRAD_KC, P - p0);
            for (int m = tid; m < CONV2D_GRAD_TM; m += CONV2D_GRAD_TG) {
                float* dst = as + m * CONV2D_GRAD_KC;
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
                float* dst = bs + jj;
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
            __syncthreads();
            conv2d_grad_chunk(as, bs, accs, busy, nk, rowL, colL, tid);
            __syncthreads();
        }
    }
    for (int i = 0; i < CONV2D_GRAD_RM; ++i) {
        if (m0 + rowL + i < scg && j0 + colL < jn) {
            float* dp = dw + (g * scg + m0 + rowL + i) * jn + j0 + colL;
            for (int x = 0; x < min(CONV2D_GRAD_RN, jn - j0 - colL); ++x) {
                dp[x] = accs[(i * CONV2D_GRAD_RN + x) * CONV2D_GRAD_TG + tid];
            }
        }
    }
}

/* The least p >= 1 with p * d a multiple of st: taps p apart share a stride phase. */
CK_FUNC int conv2d_grad_period(const int st, const int d)
{
    int p = 1;
    while ((p * d) % st != 0) {
        ++p;
    }
    return p;
}

/* The first tap t < k with (ph + pad - t * d) a multiple of st, or k when there is none. */
CK_FUNC int conv2d_grad_first_tap(const int ph, const int pad, const int st, const int d, const int k)
{
    for (int t = 0; t < k; ++t) {
        if ((ph + pad - t * d) % st == 0) {
            return t;
        }
    }
    return k;
}

extern "C" __global__ void __launch_bounds__(CONV2D_GRAD_TG)
conv2d_grad_large_tiled(const float* __restrict__ s,
                        const float* __restrict__ smask,
                        const float* __restrict__ w,
                        float* __restrict__ out,
                        const int N, const int SC, const int SH, const int SW,
                        const int LC, const int LH, const int LW,
                        const int KH, const int KW, const int STH, const int STW,
                        const int DH, const int DW, const int PT, const int PL, const int G)
{
    __shared__ float as[CONV2D_GRAD_TM * CONV2D_GRAD_KC];
    __shared__ float bs[CONV2D_GRAD_KC * CONV2D_GRAD_TN];
    __shared__ float accs[CONV2D_GRAD_BLOCK * CONV2D_GRAD_TG];
    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int tid = ty * CONV2D_GRAD_WGX + tx;
    const int lcg = LC / G;
    const int scg = SC / G;
    const int phases = STH * STW;
    const int z = blockIdx.z;
    const int phase = z % phases;
    const int g = (z / phases) % G;
    const int n = z / (phases * G);
    const int ph = phase / STW;
    const int pw = phase - ph * STW;
    const int pu = ph < LH ? (LH - ph + STH - 1) / STH : 0;
    const int pv = pw < LW ? (LW - pw + STW - 1) / STW : 0;
    const int tilesV = ((LW + STW - 1) / STW + CONV2D_GRAD_RN - 1) / CONV2D_GRAD_RN;
    const int u0 = (blockIdx.x / tilesV) * CONV2D_GRAD_WGX;
    const int v0 = (blockIdx.x % tilesV) * CONV2D_GRAD_RN;
    const int m0 = blockIdx.y * CONV2D_GRAD_TM;
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
    for (int e = 0; e < CONV2D_GRAD_BLOCK; ++e) {
        accs[e * CONV2D_GRAD_TG + tid] = 0.0f;
    }
    for (int k0 = 0; k0 < K; k0 += CONV2D_GRAD_KC) {
        const int nk = min(CONV2D_GRAD_KC, K - k0);
        const int fStart = k0 / taps;
        const int tStart = k0 - fStart * taps;
        for (int m = tid; m < CONV2D_GRAD_TM; m += CONV2D_GRAD_TG) {
            float* dst = as + m * CONV2D_GRAD_KC;
            if (m0 + m < lcg) {
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
            float* dst = bs + k * CONV2D_GRAD_TN + uu * CONV2D_GRAD_RN;
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
        __syncthreads();
        conv2d_grad_chunk(as, bs, accs, busy, nk, rowL, colL, tid);
        __syncthreads();
    }
    for (int i = 0; i < CONV2D_GRAD_RM; ++i) {
        if (m0 + rowL + i < lcg && u < pu && v0 < pv) {
            float* op = out + ((n * LC + g * lcg + m0 + rowL + i) * LH + ph + u * STH) * LW + pw;
            for (int x = 0; x < min(CONV2D_GRAD_RN, pv - v0); ++x) {
                op[(v0 + x) * STW] = accs[(i * CONV2D_GRAD_RN + x) * CONV2D_GRAD_TG + tid];
            }
        }
    }
}
