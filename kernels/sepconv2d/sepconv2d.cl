/*
 * sepconv2d: depthwise-separable convolution, fused, NCHW, float32.
 *
 *   d[n,c,p] = between( db[c] + sum_{r,s} x[n, c / M, oh*SH - PT + r*DH, ow*SW - PL + s*DW] * dw[c, r, s] )
 *   y[n,o,p] = act( pb[o] + sum_c pw[o, c] * d[n,c,p] )          c < CM = C*M,  p = (oh, ow)
 *
 * Layout: x [N,C,H,W], dw [CM,1,KH,KW], db [CM] or NULL, pw [OC,CM,1,1], pb [OC] or NULL,
 * y [N,OC,OH,OW].
 * Grid: (roundup(OH*OW, SEP_TP), ceil(OC / (SEP_TO*SEP_OCB)) * SEP_TO, N). A work-group owns SEP_TP
 * output pixels and SEP_TO*SEP_OCB output channels; each work-item accumulates SEP_OCB channels of
 * one pixel. For each chunk of SEP_CC depthwise channels the group first computes d for its pixels
 * into local memory (every work-item a share), then all of it is consumed by the pointwise sums.
 * d never goes to global memory; it is recomputed once per block of SEP_TO*SEP_OCB output channels,
 * which costs about KH*KW / (SEP_TO*SEP_OCB) of the pointwise work.
 * Variant: the baseline fused kernel; the two-op path (conv2d depthwise, then conv2d 1x1) computes
 * the same and is what the consistency tests compare it with.
 */
#include "common/convkit.h"

#ifndef SEP_TP
#define SEP_TP 16
#endif
#ifndef SEP_TO
#define SEP_TO 16
#endif
#ifndef SEP_OCB
#define SEP_OCB 4
#endif
#ifndef SEP_CC
#define SEP_CC 32
#endif

__attribute__((reqd_work_group_size(SEP_TP, SEP_TO, 1)))
__kernel void sepconv2d_fwd(__global const float* restrict x,
                            __global const float* restrict dw,
                            __global const float* restrict db,
                            __global const float* restrict pw,
                            __global const float* restrict pb,
                            __global float* restrict y,
                            const int C, const int H, const int W, const int M,
                            const int OC, const int OH, const int OW,
                            const int KH, const int KW, const int SH, const int SW,
                            const int DH, const int DW, const int PT, const int PL,
                            const int BETWEEN, const int ACT)
{
    __local float d[SEP_CC][SEP_TP];
    const int lp = get_local_id(0);
    const int lo = get_local_id(1);
    const int n = get_global_id(2);
    const int tile = get_group_id(0) * SEP_TP;
    const int ocBase = get_group_id(1) * (SEP_TO * SEP_OCB);
    const int ohw = OH * OW;
    const int p = tile + lp;
    const int CM = C * M;

    float acc[SEP_OCB];
    for (int j = 0; j < SEP_OCB; ++j) {
        acc[j] = 0.0f;
    }

    for (int c0 = 0; c0 < CM; c0 += SEP_CC) {
        /* Depthwise values of this chunk for the tile's pixels, shared by the whole group. */
        for (int i = lo * SEP_TP + lp; i < SEP_CC * SEP_TP; i += SEP_TP * SEP_TO) {
            const int cc = i / SEP_TP;
            const int pp = i - cc * SEP_TP;
            const int c = c0 + cc;
            const int q = tile + pp;
            float v = 0.0f;
            if (c < CM && q < ohw) {
                const int oh = q / OW;
                const int ow = q - oh * OW;
                const int ih0 = oh * SH - PT;
                const int iw0 = ow * SW - PL;
                __global const float* xp = x + (n * C + c / M) * H * W;
                __global const float* wp = dw + c * KH * KW;
                v = (db != 0) ? db[c] : 0.0f;
                for (int r = 0; r < KH; ++r) {
                    const int ih = ih0 + r * DH;
                    if (ih < 0 || ih >= H) {
                        continue;
                    }
                    for (int s = 0; s < KW; ++s) {
                        const int iw = iw0 + s * DW;
                        if (iw >= 0 && iw < W) {
                            v = fma(xp[ih * W + iw], wp[r * KW + s], v);
                        }
                    }
                }
                v = ck_activate(v, BETWEEN);
            }
            d[cc][pp] = v;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        const int chunk = min(SEP_CC, CM - c0);
        for (int j = 0; j < SEP_OCB; ++j) {
            const int o = ocBase + lo + j * SEP_TO;
            if (o < OC) {
                __global const float* wrow = pw + o * CM + c0;
                float a = acc[j];
                for (int cc = 0; cc < chunk; ++cc) {
                    a = fma(wrow[cc], d[cc][lp], a);
                }
                acc[j] = a;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    if (p < ohw) {
        for (int j = 0; j < SEP_OCB; ++j) {
            const int o = ocBase + lo + j * SEP_TO;
            if (o < OC) {
                const float b = (pb != 0) ? pb[o] : 0.0f;
                y[(n * OC + o) * ohw + p] = ck_activate(acc[j] + b, ACT);
            }
        }
    }
}
