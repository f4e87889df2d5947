/*
 * conv2d_grad: the data and weight gradients of conv2d and conv_transpose2d, float32, NCHW; the
 * CUDA twin of conv2d_grad.cl (same entries, arguments, grids and results; see
 * common/cuda_compat.h). S [N, SC, SH, SW] and L [N, LC, LH, LW] meet through the taps
 * (a*STH - PT + r*DH, b*STW - PL + s*DW), weights [SC, LC/G, KH, KW]:
 *   conv2d_grad_large:  the gradient on L (conv2d's input), a thread per element, gathering;
 *   conv2d_grad_small:  the gradient on S (conv_transpose2d's input), a thread per element;
 *   conv2d_grad_weight: a block per weight element, every CONV2D_GRAD_WG-th (n, a, b) per thread
 *                       in order, then the .cl's halving tree (ck_block_tree): the same bits.
 * smask / lmask: a fused ReLU's output masking the output gradient, or NULL.
 * Built with (the host launches with exactly these): CONV2D_GRAD_WG 256.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef CONV2D_GRAD_WG
#define CONV2D_GRAD_WG 256
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

extern "C" __global__ void __launch_bounds__(CONV2D_GRAD_WG)
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
    __shared__ float part[CONV2D_GRAD_WG];
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
    acc = ck_block_tree<CONV2D_GRAD_WG>(acc, part, ck_op_sum());
    if (lid == 0) {
        dw[wi] = acc;
    }
}
