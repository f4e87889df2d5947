/*
 * conv2d: 2-D convolution (cross-correlation), NCHW, float32; the CUDA twin of conv2d.cl (same
 * entries, arguments, grids and results; see common/cuda_compat.h for the launch contract).
 *
 *   y[n,o,oh,ow] = act( b[o] + sum_{ci,r,s} x[n, g*C/G + ci, oh*SH - PT + r*DH, ow*SW - PL + s*DW]
 *                                            * w[o, ci, r, s] )
 *   g = o / (OC/G), ci < C/G, x reads as 0 outside the image.
 *
 * Layout: x [N,C,H,W], w [OC, C/G, KH, KW], b [OC] (or NULL), y [N,OC,OH,OW]. Every entry takes
 * x, w, b, y, N, C, H, W, OC, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, G, ACT. The host
 * (CudaConv2d, through the plan it shares with ClConv2d) picks the entry per shape; grids and
 * blocks are the .cl's (its header gives them), and each entry sums in the .cl's order (the same
 * fmaf chains, chunks and bias last), so the results are the OpenCL kernel's bit for bit. What
 * differs is how the data reaches the arithmetic, which is free to follow the GPU:
 *
 * - conv2d_fwd: the direct fallback, one thread per output, as in the .cl.
 *
 * - conv2d_tiled: implicit GEMM. A block owns CONV2D_TM channels x a CONV2D_TOH x CONV2D_TOW tile
 *   of output pixels of one image and group; a thread CONV2D_RM channels x CONV2D_RH rows of one
 *   column (32 accumulators, plus 32 for the current chunk: the .cl adds each chunk's sums to the
 *   running ones, and so must this). Per chunk of tc input channels (tc from the .cl's formula,
 *   so the chunks are the .cl's) the input patch and the weights go to shared memory with
 *   cp.async (no staging registers; every copy of a chunk in flight at once; zero-fill for the
 *   padding), then every thread reads per (tap, channel) CONV2D_RH patch values (a warp: 32
 *   adjacent floats, or two runs of 16) and its CONV2D_RM weights as two float4 broadcasts.
 *   Shared layouts (not the .cl's, which a CPU reads best):
 *     xs [tc][rows][pitchP], the row [phase][cpp] as in the .cl, pitchP = SW*cpp plus up to 7
 *        floats: a warp spans 32 / (TOW/RW) row blocks, whose offset RH*SH*pitchP is made an odd
 *        multiple of TOW/RW banks, so that the row blocks fall on disjoint banks;
 *     ws [KC][TM + 4], k-major (k = ci*KH*KW + r*KW + s): a thread's RM weights of one k are
 *        contiguous (float4 reads); a row of TM + 4 floats (4 mod 32 banks) makes the copy, in
 *        which a warp writes 8 k x 4 channels, conflict-free.
 *   __launch_bounds__ holds a thread to 128 registers, so that an SM keeps 2 blocks of 256
 *   threads (4 of 128): one computes while another copies. Shared memory, static:
 *   (CONV2D_XS * 3/2 + CONV2D_KC * (CONV2D_TM + 4)) floats, 41 KiB at the defaults. A warp copies
 *   each patch row (the .cl's CONV2D_LANES work-items).
 *
 * - conv2d_1x1: per image and group the GEMM y[o, p] = sum_c w[o, c] x[c, p]. A block owns
 *   CONV2D_PW_TM channels x CONV2D_PW_TP pixels, a thread CONV2D_PW_RM channels x CONV2D_PW_RW (4)
 *   adjacent pixels; x comes straight from global memory (a warp reads 512 contiguous bytes per
 *   channel; every x is read once per thread, so shared memory would only add a copy), as float4
 *   where the rows are 16-byte aligned (H*W a multiple of 4), four floats otherwise; the
 *   weights a chunk of CONV2D_PW_KC input channels at a time through shared memory, k-major
 *   ws [PW_KC][PW_TM + 4] as above, two float4 broadcasts per channel.
 *
 * - conv2d_depthwise: C/G == 1. Memory-bound: a thread per output, from global memory (a warp
 *   reads 32 adjacent columns; the block's weights are one channel's, broadcast), with the .cl's
 *   multiply by 0 outside the image (so that an infinite weight gives NaN there as well).
 *
 * Built with (the host launches with exactly these): CONV2D_TILE_W 16, CONV2D_TILE_H 4,
 * CONV2D_TM 64, CONV2D_TOH 8, CONV2D_TOW 16, CONV2D_RM 8, CONV2D_RH 4, CONV2D_RW 1,
 * CONV2D_XS 4096, CONV2D_KC 64, CONV2D_PW_TM 64, CONV2D_PW_TP 128, CONV2D_PW_RM 8, CONV2D_PW_RW 4,
 * CONV2D_PW_KC 64, CONV2D_DW_RW 1, CONV2D_DW_WX 32, CONV2D_DW_WY 8, CONV2D_LANES 32 (the .cl's
 * defaults, the generic-GPU tuning data), and once more for each of the other conv2d_tiled tile
 * shapes of that table; kernels/build-ptx.sh builds a module per line below, named after its
 * macros (conv2d.tm32.compute_90.ptx):
 *   ptx-variant: CONV2D_TM=32
 *   ptx-variant: CONV2D_TOH=4 CONV2D_TOW=32
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef CONV2D_TILE_W
#define CONV2D_TILE_W 16
#endif
#ifndef CONV2D_TILE_H
#define CONV2D_TILE_H 4
#endif

#ifndef CONV2D_TM
#define CONV2D_TM 64
#endif
#ifndef CONV2D_TOH
#define CONV2D_TOH 8
#endif
#ifndef CONV2D_TOW
#define CONV2D_TOW 16
#endif
#ifndef CONV2D_RM
#define CONV2D_RM 8
#endif
#ifndef CONV2D_RH
#define CONV2D_RH 4
#endif
#ifndef CONV2D_RW
#define CONV2D_RW 1
#endif
#ifndef CONV2D_XS
#define CONV2D_XS 4096
#endif
#ifndef CONV2D_KC
#define CONV2D_KC 64
#endif

#ifndef CONV2D_PW_TM
#define CONV2D_PW_TM 64
#endif
#ifndef CONV2D_PW_TP
#define CONV2D_PW_TP 128
#endif
#ifndef CONV2D_PW_RM
#define CONV2D_PW_RM 8
#endif
#ifndef CONV2D_PW_RW
#define CONV2D_PW_RW 4
#endif
#ifndef CONV2D_PW_KC
#define CONV2D_PW_KC 64
#endif

#ifndef CONV2D_DW_RW
#define CONV2D_DW_RW 1
#endif
#ifndef CONV2D_DW_WX
#define CONV2D_DW_WX 32
#endif
#ifndef CONV2D_DW_WY
#define CONV2D_DW_WY 8
#endif

#ifndef CONV2D_LANES
#define CONV2D_LANES 32
#endif

/* The GPU values' structure, which this file is written for: adjacent threads on adjacent columns
   (RW, DW_RW 1), conv2d_1x1's x as float4 (PW_RW 4), a thread's weights as float4s (RM, PW_RM
   multiples of 4) from rows of TM + 4 floats (TM, PW_TM multiples of 32: 4 mod 32 banks). */
#if CONV2D_RW != 1 || CONV2D_DW_RW != 1 || CONV2D_PW_RW != 4
#error "conv2d.cu: CONV2D_RW and CONV2D_DW_RW must be 1, CONV2D_PW_RW 4"
#endif
#if CONV2D_RM % 4 != 0 || CONV2D_PW_RM % 4 != 0 || CONV2D_TM % 32 != 0 || CONV2D_PW_TM % 32 != 0
#error "conv2d.cu: CONV2D_RM and CONV2D_PW_RM must be multiples of 4, CONV2D_TM and CONV2D_PW_TM of 32"
#endif
#if CONV2D_LANES != CK_WARP
#error "conv2d.cu: a warp copies a row, so CONV2D_LANES must be 32"
#endif
#if CONV2D_TM % CONV2D_RM != 0 || CONV2D_TOH % CONV2D_RH != 0 || CONV2D_PW_TM % CONV2D_PW_RM != 0 \
    || CONV2D_PW_TP % CONV2D_PW_RW != 0
#error "conv2d: a tile must be a multiple of its register block"
#endif

extern "C" __global__ void __launch_bounds__(CONV2D_TILE_W * CONV2D_TILE_H)
conv2d_fwd(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ b,
           float* __restrict__ y,
           const int N, const int C, const int H, const int W,
           const int OC, const int OH, const int OW,
           const int KH, const int KW,
           const int SH, const int SW,
           const int DH, const int DW,
           const int PT, const int PL,
           const int G, const int ACT)
{
    const int ow = ck_global_id_x();
    const int oh = ck_global_id_y();
    const int no = ck_global_id_z();
    if (ow >= OW || oh >= OH) {
        return;
    }
    const int n = no / OC;
    const int o = no - n * OC;
    const int cpg = C / G;
    const int c0 = (o / (OC / G)) * cpg;
    const int ih0 = oh * SH - PT;
    const int iw0 = ow * SW - PL;

    float acc = (b != 0) ? b[o] : 0.0f;
    for (int ci = 0; ci < cpg; ++ci) {
        const float* xp = x + (n * C + c0 + ci) * H * W;
        const float* wp = w + (o * cpg + ci) * KH * KW;
        for (int r = 0; r < KH; ++r) {
            const int ih = ih0 + r * DH;
            if (ih < 0 || ih >= H) {
                continue;
            }
            for (int s = 0; s < KW; ++s) {
                const int iw = iw0 + s * DW;
                if (iw < 0 || iw >= W) {
                    continue;
                }
                acc = fmaf(xp[ih * W + iw], wp[r * KW + s], acc);
            }
        }
    }
    y[(no * OH + oh) * OW + ow] = ck_activate(acc, ACT);
}

/* ---- Shared helpers of the staged entries ------------------------------------------------ */

/*
 * Asynchronous copy of one float from global to shared memory (cp.async, sm_80 and later), or
 * of a zero when `valid` is false (src-size 0: nothing is read, the 4 bytes are zero-filled).
 * Visible to the block after conv2d_async_wait() and a __syncthreads().
 */
CK_FUNC void conv2d_async4(float* dst, const float* src, const bool valid)
{
    const unsigned int d = static_cast<unsigned int>(__cvta_generic_to_shared(dst));
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(d), "l"(src), "r"(valid ? 4 : 0)
                 : "memory");
}

/* Waits for this thread's cp.async copies. */
CK_FUNC void conv2d_async_wait()
{
    asm volatile("cp.async.wait_all;\n" ::: "memory");
}

/*
 * One chunk of weights to shared memory, k-major: ws[k * LD + m] = w[(o0 + m) * K + k0 + k] for
 * k < nk, m < TMW, zero for channels m >= mValid. A warp copies 8 consecutive k (32 contiguous
 * bytes of a row of w) of 4 channels per step; LD = 4 mod 32 puts the 32 floats on 32 banks.
 */
template <int TMW, int LD, int WG>
__device__ __forceinline__ void conv2d_copy_weights(float* ws, const float* __restrict__ w, const int o0,
                                                    const int mValid, const int K, const int k0, const int nk,
                                                    const int tid)
{
    const int lane = tid % CK_WARP;
    const int m = lane / 8;
    const int k = lane % 8;
    const int steps = (TMW / 4) * ((nk + 7) / 8);
    for (int u = tid / CK_WARP; u < steps; u += WG / CK_WARP) {
        const int mm = (u % (TMW / 4)) * 4 + m;
        const int kk = (u / (TMW / 4)) * 8 + k;
        if (kk < nk) {
            const bool valid = mm < mValid;
            conv2d_async4(ws + kk * LD + mm, valid ? w + (o0 + mm) * K + k0 + kk : w, valid);
        }
    }
}

/* ---- conv2d_tiled ----------------------------------------------------------------------- */

#define CONV2D_BW (CONV2D_TOW / CONV2D_RW)
#define CONV2D_WGX (CONV2D_BW * (CONV2D_TOH / CONV2D_RH))
#define CONV2D_WGM (CONV2D_TM / CONV2D_RM)
#define CONV2D_WG (CONV2D_WGX * CONV2D_WGM)
/* The weights' row: TM + 4 floats, 16-byte aligned, 4 banks apart. */
#define CONV2D_WLD (CONV2D_TM + 4)
/* The patch with rows padded for the banks: every pitch is at least TOW floats, so padding a row
   by at most 7 floats needs at most 23/16 of the .cl's CONV2D_XS. */
#define CONV2D_XSP (CONV2D_XS + CONV2D_XS / 2)
/* Blocks per SM that __launch_bounds__ asks for: as many as leave 128 registers per thread. */
#define CONV2D_MIN_BLOCKS(wg) (65536 / 128 / (wg))

#if CONV2D_WG % CK_WARP != 0 || (CK_WARP % CONV2D_BW != 0 && CONV2D_BW % CK_WARP != 0)
#error "conv2d_tiled: the block must be whole warps, a warp whole rows of the tile (or a row whole warps)"
#endif

/*
 * The padded patch pitch: the smallest pitch + pad (pad < 8) at which the row blocks a warp
 * spans, RH*SH*pitchP floats apart, fall on disjoint banks (their offset an odd multiple of BW
 * banks), as long as the chunk still fits CONV2D_XSP; else the .cl's pitch.
 */
CK_FUNC int conv2d_pitch(const int pitch, const int SH, const int tc, const int rows)
{
#if CONV2D_BW < CK_WARP
    for (int p = pitch; p < pitch + 8; ++p) {
        if ((CONV2D_RH * SH * p) % (2 * CONV2D_BW) == CONV2D_BW) {
            return tc * rows * p <= CONV2D_XSP ? p : pitch;
        }
    }
#endif
    return pitch;
}

extern "C" __global__ void __launch_bounds__(CONV2D_WG, CONV2D_MIN_BLOCKS(CONV2D_WG))
conv2d_tiled(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ b,
             float* __restrict__ y,
             const int N, const int C, const int H, const int W,
             const int OC, const int OH, const int OW,
             const int KH, const int KW,
             const int SH, const int SW,
             const int DH, const int DW,
             const int PT, const int PL,
             const int G, const int ACT)
{
    __shared__ __align__(16) float xs[CONV2D_XSP];
    __shared__ __align__(16) float ws[CONV2D_KC * CONV2D_WLD];

    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int tid = ty * CONV2D_WGX + tx;
    const int lane = tid % CK_WARP;
    const int tilesW = (OW + CONV2D_TOW - 1) / CONV2D_TOW;
    const int oh0 = (blockIdx.x / tilesW) * CONV2D_TOH;
    const int ow0 = (blockIdx.x % tilesW) * CONV2D_TOW;
    const int om0 = blockIdx.y * CONV2D_TM;
    const int n = blockIdx.z / G;
    const int g = blockIdx.z - n * G;
    const int cpg = C / G;
    const int ocg = OC / G;
    const int KK = KH * KW;
    const int rows = (CONV2D_TOH - 1) * SH + (KH - 1) * DH + 1;
    const int cpp = CONV2D_TOW + ((KW - 1) * DW) / SW;
    const int pitch = SW * cpp;
    /* The .cl's chunk, from the unpadded patch: the same chunks, so the same sums. */
    const int tc = min(cpg, min(CONV2D_XS / (rows * pitch), CONV2D_KC / KK));
    const int pitchP = conv2d_pitch(pitch, SH, tc, rows);
    const int patchP = rows * pitchP;
    const int ih0 = oh0 * SH - PT;
    const int iw0 = ow0 * SW - PL;

    const int colL = (tx % CONV2D_BW) * CONV2D_RW;
    const int rowL = (tx / CONV2D_BW) * CONV2D_RH;
    const int oBlock = om0 + ty * CONV2D_RM;
    const bool busy = oBlock < ocg && oh0 + rowL < OH && ow0 + colL < OW;
    const float* xg = x + (n * C + g * cpg) * H * W;

    float acc[CONV2D_RM][CONV2D_RH];
#pragma unroll
    for (int i = 0; i < CONV2D_RM; ++i) {
#pragma unroll
        for (int h = 0; h < CONV2D_RH; ++h) {
            acc[i][h] = 0.0f;
        }
    }

    for (int c0 = 0; c0 < cpg; c0 += tc) {
        const int nc = min(tc, cpg - c0);
        /* The patch, a warp per row: lanes along a phase's columns (coalesced at stride 1). */
        for (int rr = tid / CK_WARP; rr < nc * rows; rr += CONV2D_WG / CK_WARP) {
            const int ci = rr / rows;
            const int pr = rr - ci * rows;
            const int ih = ih0 + pr;
            const bool rowIn = ih >= 0 && ih < H;
            const float* src = xg + ((c0 + ci) * H + (rowIn ? ih : 0)) * W;
            float* dst = xs + ci * patchP + pr * pitchP;
            for (int q = 0; q < SW; ++q) {
                for (int j = lane; j < cpp; j += CK_WARP) {
                    const int c = iw0 + q + j * SW;
                    const bool in = rowIn && c >= 0 && c < W;
                    conv2d_async4(dst + q * cpp + j, in ? src + c : x, in);
                }
            }
        }
        conv2d_copy_weights<CONV2D_TM, CONV2D_WLD, CONV2D_WG>(ws, w, g * ocg + om0, ocg - om0, cpg * KK, c0 * KK,
                                                              nc * KK, tid);
        conv2d_async_wait();
        __syncthreads();

        float part[CONV2D_RM][CONV2D_RH];
#pragma unroll
        for (int i = 0; i < CONV2D_RM; ++i) {
#pragma unroll
            for (int h = 0; h < CONV2D_RH; ++h) {
                part[i][h] = 0.0f;
            }
        }
        /* The .cl's order: taps outermost, the input channel innermost. */
        for (int s = 0; s < (busy ? KW : 0); ++s) {
            const int off = ((s * DW) % SW) * cpp + (s * DW) / SW + colL;
            for (int r = 0; r < KH; ++r) {
                const float* xp = xs + (rowL * SH + r * DH) * pitchP + off;
                const float* wp = ws + (r * KW + s) * CONV2D_WLD + ty * CONV2D_RM;
#pragma unroll 2
                for (int ci = 0; ci < nc; ++ci) {
                    float xv[CONV2D_RH];
#pragma unroll
                    for (int h = 0; h < CONV2D_RH; ++h) {
                        xv[h] = xp[h * SH * pitchP];
                    }
#pragma unroll
                    for (int i4 = 0; i4 < CONV2D_RM; i4 += 4) {
                        const float4 wv = *reinterpret_cast<const float4*>(wp + i4);
                        const float wi[4] = {wv.x, wv.y, wv.z, wv.w};
#pragma unroll
                        for (int j = 0; j < 4; ++j) {
#pragma unroll
                            for (int h = 0; h < CONV2D_RH; ++h) {
                                part[i4 + j][h] = fmaf(wi[j], xv[h], part[i4 + j][h]);
                            }
                        }
                    }
                    xp += patchP;
                    wp += KK * CONV2D_WLD;
                }
            }
        }
#pragma unroll
        for (int i = 0; i < CONV2D_RM; ++i) {
#pragma unroll
            for (int h = 0; h < CONV2D_RH; ++h) {
                acc[i][h] += part[i][h];
            }
        }
        __syncthreads();
    }

    const int ow = ow0 + colL;
#pragma unroll
    for (int i = 0; i < CONV2D_RM; ++i) {
        const int o = oBlock + i;
        if (o < ocg && ow < OW) {
            const int oc = g * ocg + o;
            const float bo = b != 0 ? b[oc] : 0.0f;
#pragma unroll
            for (int h = 0; h < CONV2D_RH; ++h) {
                const int oh = oh0 + rowL + h;
                if (oh < OH) {
                    /* The bias only where there is one: v + 0 would turn -0 into +0. */
                    const float v = b != 0 ? acc[i][h] + bo : acc[i][h];
                    y[((n * OC + oc) * OH + oh) * OW + ow] = ck_activate(v, ACT);
                }
            }
        }
    }
}

/* ---- conv2d_1x1 ------------------------------------------------------------------------- */

#define CONV2D_PW_WGX (CONV2D_PW_TP / CONV2D_PW_RW)
#define CONV2D_PW_WGM (CONV2D_PW_TM / CONV2D_PW_RM)
#define CONV2D_PW_WG (CONV2D_PW_WGX * CONV2D_PW_WGM)
#define CONV2D_PW_WLD (CONV2D_PW_TM + 4)

/* Four pixels from xp: one float4 load where VEC (16-byte aligned), else the first `left` and
   zeros after them (the end of a row). */
template <bool VEC>
__device__ __forceinline__ float4 conv2d_pw_load(const float* __restrict__ xp, const int left)
{
    if (VEC) {
        return __ldg(reinterpret_cast<const float4*>(xp));
    }
    return make_float4(__ldg(xp), left > 1 ? __ldg(xp + 1) : 0.0f, left > 2 ? __ldg(xp + 2) : 0.0f,
                       left > 3 ? __ldg(xp + 3) : 0.0f);
}

/* One chunk's sums of a thread's block: nc input channels from xp (P floats apart) and the
   k-major weights from wp, in the .cl's order. */
template <bool VEC>
__device__ __forceinline__ void conv2d_pw_chunk(float4 (&part)[CONV2D_PW_RM], const float* __restrict__ xp,
                                                const float* wp, const int P, const int nc, const int left)
{
#pragma unroll 2
    for (int c = 0; c < nc; ++c) {
        const float4 xv = conv2d_pw_load<VEC>(xp, left);
#pragma unroll
        for (int i4 = 0; i4 < CONV2D_PW_RM; i4 += 4) {
            const float4 wv = *reinterpret_cast<const float4*>(wp + i4);
            const float wi[4] = {wv.x, wv.y, wv.z, wv.w};
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                float4& a = part[i4 + j];
                a.x = fmaf(wi[j], xv.x, a.x);
                a.y = fmaf(wi[j], xv.y, a.y);
                a.z = fmaf(wi[j], xv.z, a.z);
                a.w = fmaf(wi[j], xv.w, a.w);
            }
        }
        xp += P;
        wp += CONV2D_PW_WLD;
    }
}

extern "C" __global__ void __launch_bounds__(CONV2D_PW_WG, CONV2D_MIN_BLOCKS(CONV2D_PW_WG))
conv2d_1x1(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ b,
           float* __restrict__ y,
           const int N, const int C, const int H, const int W,
           const int OC, const int OH, const int OW,
           const int KH, const int KW,
           const int SH, const int SW,
           const int DH, const int DW,
           const int PT, const int PL,
           const int G, const int ACT)
{
    __shared__ __align__(16) float ws[CONV2D_PW_KC * CONV2D_PW_WLD];

    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int tid = ty * CONV2D_PW_WGX + tx;
    const int P = H * W;
    const int p = blockIdx.x * CONV2D_PW_TP + tx * CONV2D_PW_RW;
    const int om0 = blockIdx.y * CONV2D_PW_TM;
    const int n = blockIdx.z / G;
    const int g = blockIdx.z - n * G;
    const int cpg = C / G;
    const int ocg = OC / G;
    const int oBlock = om0 + ty * CONV2D_PW_RM;
    const int left = P - p;
    const bool some = left > 0;
    /* Whole float4s: four pixels inside the row, rows a multiple of 16 bytes apart, x aligned. */
    const bool vec = left >= CONV2D_PW_RW && P % 4 == 0 && (reinterpret_cast<size_t>(x) & 15) == 0;
    const float* xrow = x + (n * C + g * cpg) * P + (some ? p : 0);

    float4 acc[CONV2D_PW_RM];
#pragma unroll
    for (int i = 0; i < CONV2D_PW_RM; ++i) {
        acc[i] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    }

    for (int c0 = 0; c0 < cpg; c0 += CONV2D_PW_KC) {
        const int nc = min(CONV2D_PW_KC, cpg - c0);
        conv2d_copy_weights<CONV2D_PW_TM, CONV2D_PW_WLD, CONV2D_PW_WG>(ws, w, g * ocg + om0, ocg - om0, cpg, c0, nc,
                                                                       tid);
        conv2d_async_wait();
        __syncthreads();

        float4 part[CONV2D_PW_RM];
#pragma unroll
        for (int i = 0; i < CONV2D_PW_RM; ++i) {
            part[i] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        }
        if (some && oBlock < ocg) {
            /* Two loops rather than a test per load: `vec` is fixed per thread. */
            if (vec) {
                conv2d_pw_chunk<true>(part, xrow + c0 * P, ws + ty * CONV2D_PW_RM, P, nc, left);
            } else {
                conv2d_pw_chunk<false>(part, xrow + c0 * P, ws + ty * CONV2D_PW_RM, P, nc, left);
            }
        }
#pragma unroll
        for (int i = 0; i < CONV2D_PW_RM; ++i) {
            acc[i].x += part[i].x;
            acc[i].y += part[i].y;
            acc[i].z += part[i].z;
            acc[i].w += part[i].w;
        }
        __syncthreads();
    }

    if (!some) {
        return;
    }
    const bool vecOut = left >= CONV2D_PW_RW && P % 4 == 0 && (reinterpret_cast<size_t>(y) & 15) == 0;
#pragma unroll
    for (int i = 0; i < CONV2D_PW_RM; ++i) {
        const int o = oBlock + i;
        if (o < ocg) {
            const int oc = g * ocg + o;
            float4 v = acc[i];
            if (b != 0) {
                const float bo = b[oc];
                v.x += bo;
                v.y += bo;
                v.z += bo;
                v.w += bo;
            }
            v.x = ck_activate(v.x, ACT);
            v.y = ck_activate(v.y, ACT);
            v.z = ck_activate(v.z, ACT);
            v.w = ck_activate(v.w, ACT);
            float* yp = y + (n * OC + oc) * P + p;
            if (vecOut) {
                *reinterpret_cast<float4*>(yp) = v;
            } else {
                yp[0] = v.x;
                if (left > 1) {
                    yp[1] = v.y;
                }
                if (left > 2) {
                    yp[2] = v.z;
                }
                if (left > 3) {
                    yp[3] = v.w;
                }
            }
        }
    }
}

/* ---- conv2d_depthwise ------------------------------------------------------------------- */

extern "C" __global__ void __launch_bounds__(CONV2D_DW_WX * CONV2D_DW_WY)
conv2d_depthwise(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ b,
                 float* __restrict__ y,
                 const int N, const int C, const int H, const int W,
                 const int OC, const int OH, const int OW,
                 const int KH, const int KW,
                 const int SH, const int SW,
                 const int DH, const int DW,
                 const int PT, const int PL,
                 const int G, const int ACT)
{
    const int ow = ck_global_id_x();
    const int oh = ck_global_id_y();
    const int no = ck_global_id_z();
    if (ow >= OW || oh >= OH) {
        return;
    }
    const int n = no / OC;
    const int o = no - n * OC;
    const float* xp = x + (n * C + o / (OC / G)) * H * W;
    const float* wp = w + o * KH * KW;
    const int ih0 = oh * SH - PT;
    const int iw0 = ow * SW - PL;
    float acc = 0.0f;
    for (int r = 0; r < KH; ++r) {
        const int ih = ih0 + r * DH;
        if (ih < 0 || ih >= H) {
            continue;
        }
        const float* row = xp + ih * W;
        for (int s = 0; s < KW; ++s) {
            const int iw = iw0 + s * DW;
            const float v = (iw >= 0 && iw < W) ? __ldg(row + iw) : 0.0f;
            acc = fmaf(__ldg(wp + r * KW + s), v, acc);
        }
    }
    if (b != 0) {
        acc += b[o];
    }
    y[(no * OH + oh) * OW + ow] = ck_activate(acc, ACT);
}
