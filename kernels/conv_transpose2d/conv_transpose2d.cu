/*
 * conv_transpose2d: 2-D transposed convolution (ONNX ConvTranspose), NCHW, float32, forward; the
 * CUDA twin of conv_transpose2d.cl (same entry, arguments, grid and results; common/cuda_compat.h).
 *
 *   y[n,o,oh,ow] = act( b[o] + sum_{ci,r,s} x[n, g*C/G + ci, ih, iw] * w[g*C/G + ci, o - g*OC/G, r, s] )
 *   over the taps with oh + PT - r*DH = ih*SH and ow + PL - s*DW = iw*SW, 0 <= ih < H, 0 <= iw < W,
 *   g = o / (OC/G), ci < C/G; the sum is the .cl's chain of fmaf in the order (channel block, r,
 *   s, channel).
 *
 * Layout: x [N,C,H,W], w [C, OC/G, KH, KW], b [OC] (or NULL), y [N,OC,OH,OW]; PT, PL may be
 * negative.
 * Grid: (SW * JW / CONVT2D_TILE_W, SH * JH / CONVT2D_TILE_H, N*OC) blocks of (CONVT2D_TILE_W,
 * CONVT2D_TILE_H, 1), JW = roundup(ceil(OW / SW), CONVT2D_TILE_W), JH likewise: global x = pw * JW + j
 * is output column j * SW + pw (stride phase pw), so a block holds one phase, all its threads visit
 * the same taps (no divergence, weight reads are broadcasts) and neighbouring threads read
 * neighbouring input pixels. See the .cl for the gather formulation and the channel blocking.
 * Built with (the host launches with exactly these): CONVT2D_TILE_W 8, CONVT2D_TILE_H 8,
 * CONVT2D_CBLOCK 8.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef CONVT2D_TILE_W
#define CONVT2D_TILE_W 8
#endif
#ifndef CONVT2D_TILE_H
#define CONVT2D_TILE_H 8
#endif
#ifndef CONVT2D_CBLOCK
#define CONVT2D_CBLOCK 8
#endif

CK_FUNC int convt2d_gcd(int a, int b)
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
CK_FUNC int convt2d_first_tap(int base, int s, int d, int step, int limit)
{
    for (int r = 0; r < step; ++r) {
        if ((base - r * d) % s == 0) {
            return r;
        }
    }
    return limit;
}

/* At least 16 blocks per SM (1024 threads): ptxas then fits the kernel in 48 registers with no
   spill, where a bound on the block size alone left it 48 registers and an 8-byte spill on sm_80. */
extern "C" __global__ void __launch_bounds__(CONVT2D_TILE_W * CONVT2D_TILE_H, 16)
conv_transpose2d_fwd(const float* __restrict__ x, const float* __restrict__ w,
                     const float* __restrict__ b, float* __restrict__ y,
                     const int N, const int C, const int H, const int W,
                     const int OC, const int OH, const int OW,
                     const int KH, const int KW,
                     const int SH, const int SW,
                     const int DH, const int DW,
                     const int PT, const int PL,
                     const int G, const int ACT,
                     const int JH, const int JW)
{
    const int gx = ck_global_id_x();
    const int gy = ck_global_id_y();
    const int no = ck_global_id_z();
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
    /* Uniform across the block: they depend on the phase only. */
    const int r0 = convt2d_first_tap(ph + PT, SH, DH, steph, KH);
    const int s0 = convt2d_first_tap(pw + PL, SW, DW, stepw, KW);
    const int plane = H * W;
    const int wstride = ocpg * KH * KW;
    const float* xn = x + (n * C + c0) * plane;
    const float* wo = w + (c0 * ocpg + ol) * KH * KW;

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
                const float* xp = xn + ih * W + iw;
                const float* wp = wo + r * KW + s;
                for (int ci = cb; ci < ce; ++ci) {
                    acc = fmaf(xp[ci * plane], wp[ci * wstride], acc);
                }
            }
        }
    }
    y[(no * OH + oh) * OW + ow] = ck_activate(acc, ACT);
}
