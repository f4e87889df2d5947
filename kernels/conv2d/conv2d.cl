/*
 * conv2d: 2-D convolution (cross-correlation), NCHW, float32.
 *
 *   y[n,o,oh,ow] = act( b[o] + sum_{ci,r,s} x[n, g*C/G + ci, oh*SH - PT + r*DH, ow*SW - PL + s*DW]
 *                                            * w[o, ci, r, s] )
 *   where g = o / (OC/G), ci < C/G, and x reads as 0 outside the image (padding).
 *
 * Layout: x [N,C,H,W], w [OC, C/G, KH, KW], b [OC] (or NULL), y [N,OC,OH,OW].
 * Every entry takes the same arguments, in this order:
 *   x, w, b, y, N, C, H, W, OC, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, G, ACT
 * (PT/PL: top and left pads; the bottom and right pads follow from OH/OW; ACT: common/convkit.h).
 * The hosts (ClConv2d, and CudaConv2d for the CUDA twin conv2d.cu) pick the entry per shape, and
 * the tile macros per device from data, through one plan (Conv2dPlan, Conv2dTuning in
 * org.convkit.backend.plan); the defaults below are the generic-GPU values. Indices are 32-bit:
 * the host refuses tensors of 2^31 elements or more. Every entry is validated against
 * conv2d_fwd's definition by the same sweeps (Conv2dConsistencyTest, ClConv2dPathsTest).
 *
 * Entries (grid = global size; local size = work-group; ceil(a/b) rounds up):
 *
 * - conv2d_fwd: the general fallback, correct for every size, stride, dilation, padding and
 *   group count. One work-item per output element. Local (CONV2D_TILE_W, CONV2D_TILE_H, 1),
 *   grid (roundup(OW, TILE_W), roundup(OH, TILE_H), N*OC).
 *
 * - conv2d_tiled: implicit GEMM, M = output channels of a group, N = output pixels, K = (C/G)*KH*KW.
 *   A work-group owns CONV2D_TM channels x a CONV2D_TOH x CONV2D_TOW block of output pixels of
 *   one image and group. K is reduced a chunk of tc input channels at a time (all KH*KW taps of
 *   each): the chunk's input patch (the rows and columns the pixel block reads, zero-padded) and
 *   the TM x tc*KH*KW weights are copied to local memory, then every work-item accumulates a
 *   register block of CONV2D_RM channels x CONV2D_RH rows x CONV2D_RW adjacent columns (RW is a
 *   vector: float16 on AVX-512 CPUs, 1 on GPUs, where adjacent work-items take adjacent columns).
 *   Strides > 1 store each patch row split by column phase (column c at (c % SW) * cpp + c / SW),
 *   so that a tap reads RW consecutive floats at any stride. The patch is shared by KH*KW taps and
 *   TM channels, the weights by TOH*TOW pixels. A work-item whose block lies wholly past the last
 *   channel, row or column skips the arithmetic (it still copies and meets the barriers). Each
 *   chunk's sums go to separate accumulators (part_*) added to the running ones (acc_*) after
 *   it: the running ones live across barriers, which on PoCL means in memory.
 *   The local arrays: xs[tc][rows][SW][cpp] (patch rows, column phases), ws[TM][CONV2D_KC]
 *   (row m = channel om0 + m, its tc*KH*KW weights in w's order).
 *     tc = min(C/G, CONV2D_XS / patch, CONV2D_KC / (KH*KW)), patch = rows * SW * cpp,
 *     rows = (TOH-1)*SH + (KH-1)*DH + 1, cpp = TOW + ((KW-1)*DW) / SW;
 *   the host only picks this entry when tc >= 1.
 *   Local (WGX, WGM, 1), WGX = (TOW/RW) * (TOH/RH), WGM = TM/RM;
 *   grid (ceil(OH/TOH) * ceil(OW/TOW) * WGX, ceil((OC/G)/TM) * WGM, N*G).
 *   Local memory: (CONV2D_XS + CONV2D_TM * CONV2D_KC) floats.
 *
 * - conv2d_1x1: 1x1 kernel, stride 1, no padding: per image and group a plain GEMM
 *   y[o, p] = sum_c w[o, c] x[c, p] over the H*W pixels p, NCHW as it is. A work-group owns
 *   CONV2D_PW_TM channels x CONV2D_PW_TP consecutive pixels; CONV2D_PW_KC input channels of
 *   weights at a time go to local memory, while x is read straight from global memory (each
 *   element once per work-item, RW consecutive pixels per read: nothing to gain from staging).
 *   Register block: CONV2D_PW_RM channels x CONV2D_PW_RW pixels.
 *   Local (TP/RW, TM/RM, 1); grid (ceil(H*W/TP) * TP/RW, ceil((OC/G)/TM) * TM/RM, N*G).
 *   Local memory: CONV2D_PW_TM * CONV2D_PW_KC floats.
 *
 * - conv2d_depthwise: C/G == 1 (each output channel reads one input channel: depthwise, with any
 *   channel multiplier OC/G). Memory-bound, so no local memory: a work-item computes
 *   CONV2D_DW_RW adjacent output pixels of one row and channel from global memory (vector loads
 *   where the row span is inside the image at stride 1 or 2).
 *   Local (CONV2D_DW_WX, CONV2D_DW_WY, 1); grid (roundup(ceil(OW/RW), WX), roundup(OH, WY), N*OC).
 *
 * CONV2D_LANES: work-items that copy one row into local memory together (32 on GPUs, so that a
 * warp reads a row coalesced; 1 on CPUs, where each work-item copies whole rows with vector code).
 * Both work-group sizes of the staged entries must be multiples of it.
 */
#include "common/convkit.h"

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

#define CONV2D_CAT_(a, b) a##b
#define CONV2D_CAT(a, b) CONV2D_CAT_(a, b)

__attribute__((reqd_work_group_size(CONV2D_TILE_W, CONV2D_TILE_H, 1)))
__kernel void conv2d_fwd(__global const float* restrict x,
                         __global const float* restrict w,
                         __global const float* restrict b,
                         __global float* restrict y,
                         const int N, const int C, const int H, const int W,
                         const int OC, const int OH, const int OW,
                         const int KH, const int KW,
                         const int SH, const int SW,
                         const int DH, const int DW,
                         const int PT, const int PL,
                         const int G, const int ACT)
{
    const int ow = get_global_id(0);
    const int oh = get_global_id(1);
    const int no = get_global_id(2);
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
        __global const float* xp = x + (n * C + c0 + ci) * H * W;
        __global const float* wp = w + (o * cpg + ci) * KH * KW;
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
                acc = fma(xp[ih * W + iw], wp[r * KW + s], acc);
            }
        }
    }
    y[(no * OH + oh) * OW + ow] = ck_activate(acc, ACT);
}

/* ---- Vectors of 1, 2, 4, 8 or 16 floats: type, load, store, by width ---------------------- */

typedef float conv2d_float1;
typedef float2 conv2d_float2;
typedef float4 conv2d_float4;
typedef float8 conv2d_float8;
typedef float16 conv2d_float16;
#define CONV2D_VEC(n) CONV2D_CAT(conv2d_float, n)
#define conv2d_vload1(p) (*(p))
#define conv2d_vload2(p) vload2(0, (p))
#define conv2d_vload4(p) vload4(0, (p))
#define conv2d_vload8(p) vload8(0, (p))
#define conv2d_vload16(p) vload16(0, (p))
#define CONV2D_VLOAD(n, p) CONV2D_CAT(conv2d_vload, n)(p)
#define conv2d_vstore1(v, p) (*(p) = (v))
#define conv2d_vstore2(v, p) vstore2((v), 0, (p))
#define conv2d_vstore4(v, p) vstore4((v), 0, (p))
#define conv2d_vstore8(v, p) vstore8((v), 0, (p))
#define conv2d_vstore16(v, p) vstore16((v), 0, (p))
#define CONV2D_VSTORE(n, v, p) CONV2D_CAT(conv2d_vstore, n)(v, p)

/*
 * conv2d_store<n>: bias, activation and the store of n adjacent outputs starting at (oc, oh, ow)
 * of image n; nothing if the row, the channel (o >= ocg) or the first column is outside the
 * output, and only the columns inside it at the right edge.
 */
#define CONV2D_DEFINE_STORE(NW)                                                                           \
    CK_FUNC void conv2d_store##NW(__global float* restrict y, __global const float* restrict b,          \
                                  CONV2D_VEC(NW) v, const int ocg, const int o, const int oc, const int OC, \
                                  const int OH, const int OW, const int n, const int oh, const int ow,   \
                                  const int ACT)                                                         \
    {                                                                                                    \
        if (o >= ocg || oh >= OH || ow >= OW) {                                                          \
            return;                                                                                      \
        }                                                                                                \
        if (b != 0) {                                                                                    \
            v += (CONV2D_VEC(NW))(b[oc]);                                                                \
        }                                                                                                \
        __global float* yp = y + ((n * OC + oc) * OH + oh) * OW + ow;                                    \
        if (ow + NW <= OW) {                                                                             \
            if (ACT == CK_ACT_RELU) {                                                                    \
                v = select(v, (CONV2D_VEC(NW))(0.0f), v < (CONV2D_VEC(NW))(0.0f));                       \
            }                                                                                            \
            CONV2D_VSTORE(NW, v, yp);                                                                    \
        } else {                                                                                         \
            float t[NW];                                                                                 \
            CONV2D_VSTORE(NW, v, t);                                                                     \
            for (int j = 0; j < OW - ow; ++j) {                                                          \
                yp[j] = ck_activate(t[j], ACT);                                                          \
            }                                                                                            \
        }                                                                                                \
    }
CONV2D_DEFINE_STORE(1)
CONV2D_DEFINE_STORE(2)
CONV2D_DEFINE_STORE(4)
CONV2D_DEFINE_STORE(8)
CONV2D_DEFINE_STORE(16)
#define CONV2D_STORE_FN(n) CONV2D_CAT(conv2d_store, n)

/* ---- Compile-time repetition, so that register blocks are named variables ------------------
 * REP(n, X) is X(0) ... X(n-1); REP2(n, Y, a) is Y(a, 0) ... Y(a, n-1). Private arrays indexed
 * in loops stayed in memory on PoCL (its work-item loops keep allocas in per-work-item arrays);
 * named variables become registers. */
#define CONV2D_REP_1(X) X(0)
#define CONV2D_REP_2(X) CONV2D_REP_1(X) X(1)
#define CONV2D_REP_3(X) CONV2D_REP_2(X) X(2)
#define CONV2D_REP_4(X) CONV2D_REP_3(X) X(3)
#define CONV2D_REP_5(X) CONV2D_REP_4(X) X(4)
#define CONV2D_REP_6(X) CONV2D_REP_5(X) X(5)
#define CONV2D_REP_7(X) CONV2D_REP_6(X) X(6)
#define CONV2D_REP_8(X) CONV2D_REP_7(X) X(7)
#define CONV2D_REP_9(X) CONV2D_REP_8(X) X(8)
#define CONV2D_REP_10(X) CONV2D_REP_9(X) X(9)
#define CONV2D_REP_11(X) CONV2D_REP_10(X) X(10)
#define CONV2D_REP_12(X) CONV2D_REP_11(X) X(11)
#define CONV2D_REP_13(X) CONV2D_REP_12(X) X(12)
#define CONV2D_REP_14(X) CONV2D_REP_13(X) X(13)
#define CONV2D_REP_15(X) CONV2D_REP_14(X) X(14)
#define CONV2D_REP_16(X) CONV2D_REP_15(X) X(15)
#define CONV2D_REP(n, X) CONV2D_CAT(CONV2D_REP_, n)(X)
#define CONV2D_REP2_1(Y, a) Y(a, 0)
#define CONV2D_REP2_2(Y, a) CONV2D_REP2_1(Y, a) Y(a, 1)
#define CONV2D_REP2_3(Y, a) CONV2D_REP2_2(Y, a) Y(a, 2)
#define CONV2D_REP2_4(Y, a) CONV2D_REP2_3(Y, a) Y(a, 3)
#define CONV2D_REP2(n, Y, a) CONV2D_CAT(CONV2D_REP2_, n)(Y, a)

#if CONV2D_RM > 16 || CONV2D_RH > 4 || CONV2D_PW_RM > 16
#error "conv2d: CONV2D_RM and CONV2D_PW_RM are at most 16, CONV2D_RH at most 4"
#endif
#if CONV2D_TM % CONV2D_RM != 0 || CONV2D_TOH % CONV2D_RH != 0 || CONV2D_TOW % CONV2D_RW != 0
#error "conv2d_tiled: the tile (CONV2D_TM, CONV2D_TOH, CONV2D_TOW) must be a multiple of the block (RM, RH, RW)"
#endif
#if CONV2D_PW_TM % CONV2D_PW_RM != 0 || CONV2D_PW_TP % CONV2D_PW_RW != 0
#error "conv2d_1x1: CONV2D_PW_TM and CONV2D_PW_TP must be multiples of CONV2D_PW_RM and CONV2D_PW_RW"
#endif

/* ---- conv2d_tiled ----------------------------------------------------------------------- */

#define CONV2D_BW (CONV2D_TOW / CONV2D_RW)
#define CONV2D_WGX (CONV2D_BW * (CONV2D_TOH / CONV2D_RH))
#define CONV2D_WGM (CONV2D_TM / CONV2D_RM)
#define CONV2D_WG (CONV2D_WGX * CONV2D_WGM)
typedef CONV2D_VEC(CONV2D_RW) conv2d_vec;

/*
 * One phase of a patch row: dst[j] = row[iw + j * SW] for j < cpp, 0 outside the image (or for
 * the whole row when rowIn is false). The columns inside the image, [jlo, jhi), are copied
 * without tests, so that a CPU compiler vectorises the copy; each work-item of a row's
 * CONV2D_LANES starts at its lane and steps by CONV2D_LANES.
 */
CK_FUNC void conv2d_copy_row(__local float* dst, const int cpp, __global const float* row, const int iw, const int SW,
                             const int W, const bool rowIn, const int lane)
{
    const int before = -iw;
    const int inside = W - iw;
    const int jlo = rowIn ? min(cpp, before <= 0 ? 0 : (before + SW - 1) / SW) : cpp;
    const int jhi = max(jlo, min(cpp, inside <= 0 ? 0 : (inside + SW - 1) / SW));
    for (int j = lane; j < jlo; j += CONV2D_LANES) {
        dst[j] = 0.0f;
    }
    if (SW == 1) {
        /* Unit stride spelled out: a compiler that cannot see SW == 1 emits gathers. */
        for (int j = jlo + lane; j < jhi; j += CONV2D_LANES) {
            dst[j] = row[iw + j];
        }
    } else {
        for (int j = jlo + lane; j < jhi; j += CONV2D_LANES) {
            dst[j] = row[iw + j * SW];
        }
    }
    for (int j = jhi + lane; j < cpp; j += CONV2D_LANES) {
        dst[j] = 0.0f;
    }
}

/*
 * Both phases of a patch row at stride 2 in one pass: dst[j] = row[iw + 2j], dst[cpp + j] =
 * row[iw + 2j + 1]. Reading the pair together turns the strided reads into vector loads and
 * shuffles on a CPU (per phase they were gathers). Pairs partly or wholly outside the image
 * (j outside [jlo, jhi)) are tested element by element.
 */
CK_FUNC void conv2d_copy_row2(__local float* dst, const int cpp, __global const float* row, const int iw, const int W,
                              const bool rowIn, const int lane)
{
    const int last = W - 2 - iw;
    const int jlo = rowIn ? min(cpp, iw >= 0 ? 0 : (1 - iw) / 2) : cpp;
    const int jhi = max(jlo, min(cpp, last < 0 ? 0 : last / 2 + 1));
    /* j in [jhi, cpp), then [0, jlo) as cpp..cpp+jlo-1 */
    for (int j = jhi + lane; j < cpp + jlo; j += CONV2D_LANES) {
        const int jj = j < cpp ? j : j - cpp;
        const int c = iw + 2 * jj;
        dst[jj] = (rowIn && c >= 0 && c < W) ? row[c] : 0.0f;
        dst[cpp + jj] = (rowIn && c + 1 >= 0 && c + 1 < W) ? row[c + 1] : 0.0f;
    }
    /* Eight pairs per step: one 16-float load split into its even and odd halves. */
    const int n8 = (jhi - jlo) / 8;
    for (int q = lane; q < n8; q += CONV2D_LANES) {
        const int j = jlo + 8 * q;
        const float16 v = vload16(0, row + iw + 2 * j);
        vstore8(v.even, 0, dst + j);
        vstore8(v.odd, 0, dst + cpp + j);
    }
    for (int j = jlo + 8 * n8 + lane; j < jhi; j += CONV2D_LANES) {
        dst[j] = row[iw + 2 * j];
        dst[cpp + j] = row[iw + 2 * j + 1];
    }
}

/* The register block: acc_i_h (kept across chunks) and part_i_h (one chunk's sums, so that the
   inner loop's accumulators live in registers between the barriers), channel i, row h. */
#define CONV2D_DECL_ONE(i, h) conv2d_vec acc_##i##_##h = (conv2d_vec)(0.0f);
#define CONV2D_DECL(i) CONV2D_REP2(CONV2D_RH, CONV2D_DECL_ONE, i)
#define CONV2D_ZERO_ONE(i, h) conv2d_vec part_##i##_##h = (conv2d_vec)(0.0f);
#define CONV2D_ZERO(i) CONV2D_REP2(CONV2D_RH, CONV2D_ZERO_ONE, i)
#define CONV2D_LOADX(h) const conv2d_vec xv_##h = CONV2D_VLOAD(CONV2D_RW, xp + (h) * SH * pitch);
#define CONV2D_FMA_ONE(i, h) part_##i##_##h = fma(wv_##i, xv_##h, part_##i##_##h);
#define CONV2D_FMA(i)                                              \
    const conv2d_vec wv_##i = (conv2d_vec)(wp[(i) * CONV2D_KC]); \
    CONV2D_REP2(CONV2D_RH, CONV2D_FMA_ONE, i)
#define CONV2D_ADD_ONE(i, h) acc_##i##_##h += part_##i##_##h;
#define CONV2D_ADD(i) CONV2D_REP2(CONV2D_RH, CONV2D_ADD_ONE, i)
#define CONV2D_STORE_ONE(i, h)                                                                            \
    CONV2D_STORE_FN(CONV2D_RW)(y, b, acc_##i##_##h, ocg, oBlock + (i), g * ocg + oBlock + (i), OC, OH, OW, n, \
                               oh0 + rowL + (h), ow0 + colL, ACT);
#define CONV2D_STORE(i) CONV2D_REP2(CONV2D_RH, CONV2D_STORE_ONE, i)

__attribute__((reqd_work_group_size(CONV2D_WGX, CONV2D_WGM, 1)))
__kernel void conv2d_tiled(__global const float* restrict x,
                           __global const float* restrict w,
                           __global const float* restrict b,
                           __global float* restrict y,
                           const int N, const int C, const int H, const int W,
                           const int OC, const int OH, const int OW,
                           const int KH, const int KW,
                           const int SH, const int SW,
                           const int DH, const int DW,
                           const int PT, const int PL,
                           const int G, const int ACT)
{
    /* xs: the patch, [tc][rows][SW][cpp]; ws: [TM][CONV2D_KC], row m = channel om0 + m, its
       tc*KH*KW weights of the chunk in w's order (ci, r, s). */
    __local float xs[CONV2D_XS];
    __local float ws[CONV2D_TM * CONV2D_KC];

    const int tx = get_local_id(0);
    const int ty = get_local_id(1);
    const int tid = ty * CONV2D_WGX + tx;
    const int lane = tid % CONV2D_LANES;
    const int tilesW = (OW + CONV2D_TOW - 1) / CONV2D_TOW;
    const int oh0 = (get_group_id(0) / tilesW) * CONV2D_TOH;
    const int ow0 = (get_group_id(0) % tilesW) * CONV2D_TOW;
    const int om0 = get_group_id(1) * CONV2D_TM;
    const int n = get_group_id(2) / G;
    const int g = get_group_id(2) - n * G;
    const int cpg = C / G;
    const int ocg = OC / G;
    const int KK = KH * KW;
    const int rows = (CONV2D_TOH - 1) * SH + (KH - 1) * DH + 1;
    const int cpp = CONV2D_TOW + ((KW - 1) * DW) / SW;
    const int pitch = SW * cpp;
    const int patch = rows * pitch;
    const int tc = min(cpg, min(CONV2D_XS / patch, CONV2D_KC / KK));
    const int ih0 = oh0 * SH - PT;
    const int iw0 = ow0 * SW - PL;

    /* This work-item's block: channels oBlock.., rows rowL.., columns colL.. of the tile. */
    const int colL = (tx % CONV2D_BW) * CONV2D_RW;
    const int rowL = (tx / CONV2D_BW) * CONV2D_RH;
    const int oBlock = om0 + ty * CONV2D_RM;
    /* A block wholly past the last channel, row or column has nothing to compute (it still
       helps copy and meets every barrier): where work-items run one after another (CPUs), the
       edge tiles cost only their real blocks. */
    const bool busy = oBlock < ocg && oh0 + rowL < OH && ow0 + colL < OW;

    CONV2D_REP(CONV2D_RM, CONV2D_DECL)

    for (int c0 = 0; c0 < cpg; c0 += tc) {
        const int nc = min(tc, cpg - c0);
        for (int rr = tid / CONV2D_LANES; rr < nc * rows; rr += CONV2D_WG / CONV2D_LANES) {
            const int ci = rr / rows;
            const int pr = rr - ci * rows;
            const int ih = ih0 + pr;
            const bool rowIn = ih >= 0 && ih < H;
            __global const float* src = x + ((n * C + g * cpg + c0 + ci) * H + (rowIn ? ih : 0)) * W;
            __local float* dst = xs + ci * patch + pr * pitch;
            if (SW == 2) {
                conv2d_copy_row2(dst, cpp, src, iw0, W, rowIn, lane);
            } else {
                for (int q = 0; q < SW; ++q) {
                    conv2d_copy_row(dst + q * cpp, cpp, src, iw0 + q, SW, W, rowIn, lane);
                }
            }
        }
        for (int m = tid / CONV2D_LANES; m < CONV2D_TM; m += CONV2D_WG / CONV2D_LANES) {
            const int o = om0 + m;
            __local float* dst = ws + m * CONV2D_KC;
            if (o < ocg) {
                __global const float* src = w + ((g * ocg + o) * cpg + c0) * KK;
                for (int k = lane; k < nc * KK; k += CONV2D_LANES) {
                    dst[k] = src[k];
                }
            } else {
                for (int k = lane; k < nc * KK; k += CONV2D_LANES) {
                    dst[k] = 0.0f;
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        /* Taps outermost, so that a tap's column offset (a division) is computed once per chunk;
           the input channel innermost: the loop that runs longest. */
        CONV2D_REP(CONV2D_RM, CONV2D_ZERO)
        for (int s = 0; s < (busy ? KW : 0); ++s) {
            const int off = ((s * DW) % SW) * cpp + (s * DW) / SW + colL;
            for (int r = 0; r < KH; ++r) {
                __local const float* xp = xs + (rowL * SH + r * DH) * pitch + off;
                __local const float* wp = ws + ty * CONV2D_RM * CONV2D_KC + r * KW + s;
                for (int ci = 0; ci < nc; ++ci) {
                    CONV2D_REP(CONV2D_RH, CONV2D_LOADX)
                    CONV2D_REP(CONV2D_RM, CONV2D_FMA)
                    xp += patch;
                    wp += KK;
                }
            }
        }
        CONV2D_REP(CONV2D_RM, CONV2D_ADD)
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    CONV2D_REP(CONV2D_RM, CONV2D_STORE)
}

/* ---- conv2d_1x1 ------------------------------------------------------------------------- */

#define CONV2D_PW_WGX (CONV2D_PW_TP / CONV2D_PW_RW)
#define CONV2D_PW_WGM (CONV2D_PW_TM / CONV2D_PW_RM)
typedef CONV2D_VEC(CONV2D_PW_RW) conv2d_pw_vec;

/* The first `left` (< CONV2D_PW_RW) pixels from xp, zeros after them: the last block of a row. */
CK_FUNC conv2d_pw_vec conv2d_pw_tail(__global const float* xp, const int left)
{
    float t[CONV2D_PW_RW];
    for (int j = 0; j < CONV2D_PW_RW; ++j) {
        t[j] = j < left ? xp[j] : 0.0f;
    }
    return CONV2D_VLOAD(CONV2D_PW_RW, t);
}

#define CONV2D_PW_DECL(i) conv2d_pw_vec acc_##i = (conv2d_pw_vec)(0.0f);
#define CONV2D_PW_ZERO(i) conv2d_pw_vec part_##i = (conv2d_pw_vec)(0.0f);
#define CONV2D_PW_FMA(i) part_##i = fma((conv2d_pw_vec)(wp[(i) * CONV2D_PW_KC]), xv, part_##i);
#define CONV2D_PW_ADD(i) acc_##i += part_##i;
#define CONV2D_PW_STORE(i) \
    CONV2D_STORE_FN(CONV2D_PW_RW)(y, b, acc_##i, ocg, oBlock + (i), g * ocg + oBlock + (i), OC, 1, P, n, 0, p, ACT);

__attribute__((reqd_work_group_size(CONV2D_PW_WGX, CONV2D_PW_WGM, 1)))
__kernel void conv2d_1x1(__global const float* restrict x,
                         __global const float* restrict w,
                         __global const float* restrict b,
                         __global float* restrict y,
                         const int N, const int C, const int H, const int W,
                         const int OC, const int OH, const int OW,
                         const int KH, const int KW,
                         const int SH, const int SW,
                         const int DH, const int DW,
                         const int PT, const int PL,
                         const int G, const int ACT)
{
    /* ws: [PW_TM][PW_KC], row m = channel om0 + m, its chunk of input-channel weights. */
    __local float ws[CONV2D_PW_TM * CONV2D_PW_KC];

    const int tx = get_local_id(0);
    const int ty = get_local_id(1);
    const int tid = ty * CONV2D_PW_WGX + tx;
    const int lane = tid % CONV2D_LANES;
    const int P = H * W;
    const int p = get_group_id(0) * CONV2D_PW_TP + tx * CONV2D_PW_RW;
    const int om0 = get_group_id(1) * CONV2D_PW_TM;
    const int n = get_group_id(2) / G;
    const int g = get_group_id(2) - n * G;
    const int cpg = C / G;
    const int ocg = OC / G;
    const int oBlock = om0 + ty * CONV2D_PW_RM;
    const bool full = p + CONV2D_PW_RW <= P;
    const bool some = p < P;
    __global const float* xrow = x + (n * C + g * cpg) * P + (some ? p : 0);

    CONV2D_REP(CONV2D_PW_RM, CONV2D_PW_DECL)

    for (int c0 = 0; c0 < cpg; c0 += CONV2D_PW_KC) {
        const int nc = min(CONV2D_PW_KC, cpg - c0);
        for (int m = tid / CONV2D_LANES; m < CONV2D_PW_TM; m += (CONV2D_PW_WGX * CONV2D_PW_WGM) / CONV2D_LANES) {
            const int o = om0 + m;
            __local float* dst = ws + m * CONV2D_PW_KC;
            if (o < ocg) {
                __global const float* src = w + (g * ocg + o) * cpg + c0;
                for (int k = lane; k < nc; k += CONV2D_LANES) {
                    dst[k] = src[k];
                }
            } else {
                for (int k = lane; k < nc; k += CONV2D_LANES) {
                    dst[k] = 0.0f;
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        CONV2D_REP(CONV2D_PW_RM, CONV2D_PW_ZERO)
        if (some && oBlock < ocg) {
            __global const float* xp = xrow + c0 * P;
            __local const float* wp = ws + ty * CONV2D_PW_RM * CONV2D_PW_KC;
            /* Two loops rather than a test per load: `full` is fixed per work-item. */
            if (full) {
                for (int c = 0; c < nc; ++c) {
                    const conv2d_pw_vec xv = CONV2D_VLOAD(CONV2D_PW_RW, xp);
                    CONV2D_REP(CONV2D_PW_RM, CONV2D_PW_FMA)
                    xp += P;
                    ++wp;
                }
            } else {
                for (int c = 0; c < nc; ++c) {
                    const conv2d_pw_vec xv = conv2d_pw_tail(xp, P - p);
                    CONV2D_REP(CONV2D_PW_RM, CONV2D_PW_FMA)
                    xp += P;
                    ++wp;
                }
            }
        }
        CONV2D_REP(CONV2D_PW_RM, CONV2D_PW_ADD)
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    CONV2D_REP(CONV2D_PW_RM, CONV2D_PW_STORE)
}

/* ---- conv2d_depthwise ------------------------------------------------------------------- */

typedef CONV2D_VEC(CONV2D_DW_RW) conv2d_dw_vec;

/* CONV2D_DW_RW input pixels of a row at columns iw, iw + SW, ..., zero outside the row: one vector
   load when the span is inside at stride 1, two loads and a shuffle at stride 2, else lane by lane. */
CK_FUNC conv2d_dw_vec conv2d_dw_row(__global const float* row, const int iw, const int SW, const int W)
{
    if (SW == 1 && iw >= 0 && iw + CONV2D_DW_RW <= W) {
        return CONV2D_VLOAD(CONV2D_DW_RW, row + iw);
    }
#if CONV2D_DW_RW == 16
    if (SW == 2 && iw >= 0 && iw + 32 <= W) {
        return shuffle2(vload16(0, row + iw), vload16(0, row + iw + 16),
                        (uint16)(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30));
    }
#elif CONV2D_DW_RW == 8
    if (SW == 2 && iw >= 0 && iw + 16 <= W) {
        return shuffle2(vload8(0, row + iw), vload8(0, row + iw + 8), (uint8)(0, 2, 4, 6, 8, 10, 12, 14));
    }
#endif
    float t[CONV2D_DW_RW];
    for (int j = 0; j < CONV2D_DW_RW; ++j) {
        const int c = iw + j * SW;
        t[j] = (c >= 0 && c < W) ? row[c] : 0.0f;
    }
    return CONV2D_VLOAD(CONV2D_DW_RW, t);
}

__attribute__((reqd_work_group_size(CONV2D_DW_WX, CONV2D_DW_WY, 1)))
__kernel void conv2d_depthwise(__global const float* restrict x,
                               __global const float* restrict w,
                               __global const float* restrict b,
                               __global float* restrict y,
                               const int N, const int C, const int H, const int W,
                               const int OC, const int OH, const int OW,
                               const int KH, const int KW,
                               const int SH, const int SW,
                               const int DH, const int DW,
                               const int PT, const int PL,
                               const int G, const int ACT)
{
    const int ow = get_global_id(0) * CONV2D_DW_RW;
    const int oh = get_global_id(1);
    const int no = get_global_id(2);
    if (ow >= OW || oh >= OH) {
        return;
    }
    const int n = no / OC;
    const int o = no - n * OC;
    __global const float* xp = x + (n * C + o / (OC / G)) * H * W;
    __global const float* wp = w + o * KH * KW;
    const int ih0 = oh * SH - PT;
    const int iw0 = ow * SW - PL;
    conv2d_dw_vec acc = (conv2d_dw_vec)(0.0f);
    for (int r = 0; r < KH; ++r) {
        const int ih = ih0 + r * DH;
        if (ih < 0 || ih >= H) {
            continue;
        }
        for (int s = 0; s < KW; ++s) {
            acc = fma((conv2d_dw_vec)(wp[r * KW + s]), conv2d_dw_row(xp + ih * W, iw0 + s * DW, SW, W), acc);
        }
    }
    CONV2D_STORE_FN(CONV2D_DW_RW)(y, b, acc, OC, o, o, OC, OH, OW, n, oh, ow, ACT);
}
