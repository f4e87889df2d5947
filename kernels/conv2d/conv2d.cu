/*
 * conv2d: direct 2-D convolution (cross-correlation), NCHW, float32; the CUDA twin of conv2d.cl
 * (same entry, arguments, grid and results; see common/cuda_compat.h for the launch contract).
 *
 *   y[n,o,oh,ow] = act( b[o] + sum_{ci,r,s} x[n, g*C/G + ci, oh*SH - PT + r*DH, ow*SW - PL + s*DW]
 *                                            * w[o, ci, r, s] )
 *   g = o / (OC/G), ci < C/G, x reads as 0 outside the image; the sum is the .cl's chain of fmaf
 *   in the order ci, r, s.
 *
 * Layout: x [N,C,H,W], w [OC, C/G, KH, KW], b [OC] (or NULL), y [N,OC,OH,OW].
 * Grid: (ceil(OW / CONV2D_TILE_W), ceil(OH / CONV2D_TILE_H), N*OC) blocks of (CONV2D_TILE_W,
 * CONV2D_TILE_H, 1); one thread per output element, a block a tile of one output plane: a warp
 * reads two rows of 16 neighbouring pixels, and every thread of the block reads the same weight
 * (a broadcast through the read-only cache).
 * Variant: the correct-for-everything baseline, like the .cl; it has no local-memory tiling to
 * carry over. Tiled variants come with the speed work and are validated against it.
 * Built with (the host launches with exactly these): CONV2D_TILE_W 16, CONV2D_TILE_H 4.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef CONV2D_TILE_W
#define CONV2D_TILE_W 16
#endif
#ifndef CONV2D_TILE_H
#define CONV2D_TILE_H 4
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
