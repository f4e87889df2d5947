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
 * Grid: (roundup(OW, CONVT2D_TILE_W), roundup(OH, CONVT2D_TILE_H), N*OC); one work-item per
 * output element.
 * Variant: the gather formulation. Each work-item sums the input pixels and taps that reach its
 * output element, instead of scattering each input pixel into KH*KW outputs: no atomics, no
 * zeroed output, a fixed summation order, so results are deterministic. Along an axis the taps
 * that reach a given output come every SH / gcd(SH, DH) taps; the kernel finds the first one
 * and steps, so the loop visits only reaching taps (1/SH of them when DH == 1).
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef CONVT2D_TILE_W
#define CONVT2D_TILE_W 16
#endif
#ifndef CONVT2D_TILE_H
#define CONVT2D_TILE_H 4
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
    const int ocpg = OC / G;
    const int g = o / ocpg;
    const int c0 = g * cpg;
    const int ol = o - g * ocpg;
    const int baseh = oh + PT;
    const int basew = ow + PL;
    const int steph = SH / convt2d_gcd(SH, DH);
    const int stepw = SW / convt2d_gcd(SW, DW);
    const int r0 = convt2d_first_tap(baseh, SH, DH, steph, KH);
    const int s0 = convt2d_first_tap(basew, SW, DW, stepw, KW);

    float acc = (b != 0) ? b[o] : 0.0f;
    for (int ci = 0; ci < cpg; ++ci) {
        __global const float* xp = x + (n * C + c0 + ci) * H * W;
        __global const float* wp = w + ((c0 + ci) * ocpg + ol) * KH * KW;
        for (int r = r0; r < KH; r += steph) {
            /* Exact division: base - r*DH is a multiple of SH, possibly negative. */
            const int ih = (baseh - r * DH) / SH;
            if (ih < 0 || ih >= H) {
                continue;
            }
            for (int s = s0; s < KW; s += stepw) {
                const int iw = (basew - s * DW) / SW;
                if (iw < 0 || iw >= W) {
                    continue;
                }
                acc = fma(xp[ih * W + iw], wp[r * KW + s], acc);
            }
        }
    }
    y[(no * OH + oh) * OW + ow] = ck_activate(acc, ACT);
}
