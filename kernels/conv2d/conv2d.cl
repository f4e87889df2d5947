/*
 * conv2d: direct 2-D convolution (cross-correlation), NCHW, float32.
 *
 *   y[n,o,oh,ow] = act( b[o] + sum_{ci,r,s} x[n, g*C/G + ci, oh*SH - PT + r*DH, ow*SW - PL + s*DW]
 *                                            * w[o, ci, r, s] )
 *   where g = o / (OC/G), ci < C/G, and x reads as 0 outside the image (padding).
 *
 * Layout: x [N,C,H,W], w [OC, C/G, KH, KW], b [OC] (or NULL), y [N,OC,OH,OW].
 * Grid: (roundup(OW, CONV2D_TILE_W), roundup(OH, CONV2D_TILE_H), N*OC); one work-item per output
 * element, so a work-group is a tile of one output plane: its work-items read neighbouring input
 * pixels and the same weights. Every size, stride, dilation, padding and group count (depthwise
 * included) goes through this one kernel.
 * Variant: this is the correct-for-everything baseline; tiled implicit-GEMM variants that keep
 * inputs and weights in local memory come with the speed work and are validated against it.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef CONV2D_TILE_W
#define CONV2D_TILE_W 16
#endif
#ifndef CONV2D_TILE_H
#define CONV2D_TILE_H 4
#endif

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
