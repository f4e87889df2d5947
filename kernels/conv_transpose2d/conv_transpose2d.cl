/*
 * conv_transpose2d: 2-D transposed convolution (ONNX ConvTranspose), NCHW, float32, forward.
 *
 *   y[n,o,oh,ow] = act( b[o] + sum_{ci,r,s} x[n, g*C/G + ci, ih, iw] * w[g*C/G + ci, o - g*OC/G, r, s] )
 *   over the taps with oh + PT - r*DH = ih*SH and ow + PL - s*DW = iw*SW, 0 <= ih < H, 0 <= iw < W,
 *   where g = o / (OC/G), ci < C/G.
 *
 * Layout: x [N,C,H,W], w [C, OC/G, KH, KW] (input channels first, as ONNX), b [OC] (or NULL),
 * y [N,OC,OH,OW]. Pads PT, PL may be negative (an explicit output shape larger than the full
 * result): the formula holds as written.
 * Grid: (SW * JW, SH * JH, N*OC), JW = roundup(ceil(OW / SW), CONVT2D_TILE_W), JH likewise for
 * rows; one work-item per output element, ordered by stride phase: global x = pw * JW + j is
 * output column ow = j * SW + pw (pw = ow mod SW), and likewise for rows.
 * Variant: the gather formulation, phase-decomposed. Each work-item sums the input pixels and
 * taps that reach its output element, instead of scattering each input pixel into KH*KW outputs:
 * no atomics, no zeroed output, a fixed summation order, so results are deterministic. Which taps
 * reach an output depends only on its phase (ow + PL - s*DW must be a multiple of SW), so every
 * work-item of a work-group (one phase, JW a multiple of the tile) visits the same taps: no
 * divergence, the weight reads are broadcasts, and the input reads of neighbouring work-items are
 * neighbouring pixels (iw = j + const). Along an axis the reaching taps come every
 * SW / gcd(SW, DW) taps from the first one; the loops visit only those (1/SW of them when DW == 1).
 * Input channels go in blocks of CONVT2D_CBLOCK, the taps looping inside a block: the order
 * (block, tap, channel) keeps the division per tap out of the channel loop and still reuses each
 * weight cache line across the taps (channels' weights are OC/G*KH*KW floats apart, often a
 * multiple of 4 KiB: 16 KiB for 256 outputs of 4x4, where a loop over all channels per tap
 * thrashed the cache, 2x slower on PoCL). Work-items past the end of a phase (the rounding up to
 * the tile) return at once; the tile is 8x8 rather than wide, since a phase is only OW/SW wide.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef CONVT2D_TILE_W
#define CONVT2D_TILE_W 8
#endif
#ifndef CONVT2D_TILE_H
#define CONVT2D_TILE_H 8
#endif
/* Input channels per block: the taps loop inside a block, so that the block's weights (one cache
   line per channel, OC/G*KH*KW floats apart: often a critical stride) stay cached across taps. */
#ifndef CONVT2D_CBLOCK
#define CONVT2D_CBLOCK 8
#endif

inline int convt2d_gcd(int a, int b)
{
    while (b != 0) {
        const int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The first tap r < step with (base - r*d) divisible by s, or `limit` if none: the taps that
   reach an output along one axis are r0, r0 + step, ... */
inline int convt2d_first_tap(int base, int s, int d, int step, int limit)
{
    for (int r = 0; r < step; ++r) {
        if ((base - r * d) % s == 0) {
            return r;
        }
    }
    return limit;
}

__attribute__((reqd_work_group_size(CONVT2D_TILE_W, CONVT2D_TILE_H, 1)))
__kernel void conv_transpose2d_fwd(__global const float* restrict x,
                                   __global const float* restrict w,
                                   __global const float* restrict b,
                                   __global float* restrict y,
                                   const int N, const int C, const int H, const int W,
                                   const int OC, const int OH, const int OW,
                                   const int KH, const int KW,
                                   const int SH, const int SW,
                                   const int DH, const int DW,
                                   const int PT, const int PL,
                                   const int G, const int ACT,
                                   const int JH, const int JW)
{
    const int gx = get_global_id(0);
    const int gy = get_global_id(1);
    const int no = get_global_id(2);
    const int pw = gx / JW;
    const int j = gx - pw * JW;
    const int ph = gy / JH;
    const int i = gy - ph * JH;
    const int ow = j * SW + pw;
    const int oh = i * SH + ph;
    if (ow >= OW || oh >= OH) {
        return;
    }
    const int n = no / OC;
    const int o = no - n * OC;
    const int cpg = C / G;
    const int ocpg = OC / G;
    const int g = o / ocpg;
    const int c0 = g * cpg;
    const int ol = o - g * ocpg;
    const int steph = SH / convt2d_gcd(SH, DH);
    const int stepw = SW / convt2d_gcd(SW, DW);
    /* Uniform across the work-group: they depend on the phase only. */
    const int r0 = convt2d_first_tap(ph + PT, SH, DH, steph, KH);
    const int s0 = convt2d_first_tap(pw + PL, SW, DW, stepw, KW);
    const int plane = H * W;
    const int wstride = ocpg * KH * KW;
    __global const float* xn = x + (n * C + c0) * plane;
    __global const float* wo = w + (c0 * ocpg + ol) * KH * KW;

    float acc = (b != 0) ? b[o] : 0.0f;
    for (int cb = 0; cb < cpg; cb += CONVT2D_CBLOCK) {
        const int ce = min(cpg, cb + CONVT2D_CBLOCK);
        for (int r = r0; r < KH; r += steph) {
            /* Exact division: ph + PT - r*DH is a multiple of SH, possibly negative. */
            const int ih = i + (ph + PT - r * DH) / SH;
            if (ih < 0 || ih >= H) {
                continue;
            }
            for (int s = s0; s < KW; s += stepw) {
                const int iw = j + (pw + PL - s * DW) / SW;
                if (iw < 0 || iw >= W) {
                    continue;
                }
                __global const float* xp = xn + ih * W + iw;
                __global const float* wp = wo + r * KW + s;
                for (int ci = cb; ci < ce; ++ci) {
                    acc = fma(xp[ci * plane], wp[ci * wstride], acc);
                }
            }
        }
    }
    y[(no * OH + oh) * OW + ow] = ck_activate(acc, ACT);
}
