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
 *                       CONV2D_GRAD_WG-th (n, a, b) in order, then a fixed halving tree in local
 *                       memory (error <= (N*SH*SW / WG + log2 WG) unit roundoffs times the sum of
 *                       |terms|). Deterministic: no atomics.
 * Grids: 1-D; _large roundup(N*LC*LH*LW, WG), _small roundup(N*SC*SH*SW, WG), _weight
 * SC*(LC/G)*KH*KW*WG. Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef CONV2D_GRAD_WG
#define CONV2D_GRAD_WG 256
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

__attribute__((reqd_work_group_size(CONV2D_GRAD_WG, 1, 1)))
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
    __local float part[CONV2D_GRAD_WG];
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
    for (int e = lid; e < total; e += CONV2D_GRAD_WG) {
        const int b = e % SW;
        const int u = e / SW;
        const int a = u % SH;
        const int n = u / SH;
        const int ih = a * STH - PT + r * DH;
        const int iw = b * STW - PL + c * DW;
        if (ih < 0 || ih >= LH || iw < 0 || iw >= LW) {
            continue;
        }
        acc += conv2d_grad_masked(s, smask, ((n * SC + f) * SH + a) * SW + b)
               * conv2d_grad_masked(l, lmask, ((n * LC + lc) * LH + ih) * LW + iw);
    }
    part[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int step = CONV2D_GRAD_WG / 2; step > 0; step >>= 1) {
        if (lid < step) {
            part[lid] += part[lid + step];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        dw[wi] = part[0];
    }
}
