/*
 * pool2d: max and average pooling (maxpool2d, avgpool2d) and global pooling (globalavgpool2d,
 * globalmaxpool2d), NCHW, float32. Semantics are ONNX MaxPool / AveragePool /
 * GlobalAveragePool / GlobalMaxPool.
 *
 * Windowed pooling, entries pool2d_max and pool2d_avg (same arguments):
 *   window of y[p, oh, ow] (p = n*C + c) = x[p, oh*SH - PT + r*DH, ow*SW - PL + s*DW], r < KH, s < KW
 *   pool2d_max: the maximum of the window's taps inside the input (padding never wins);
 *               NaN propagates (ck_max_nan).
 *   pool2d_avg: the sum of those taps divided by their count, or, with INCLUDE_PAD, by the
 *               count of taps inside the padded input [-PT, H + PB) x [-PL, W + PR) (ONNX
 *               count_include_pad; a ceil-mode window's overhang past the padding is never
 *               counted).
 *   The host guarantees every window holds at least one input tap.
 *   Grid: (roundup(OW, POOL2D_TILE_W), roundup(OH, POOL2D_TILE_H), N*C), one work-item per
 *   output element, work-groups of one tile of one plane (neighbouring work-items read
 *   neighbouring, overlapping input rows). The in-input tap range of each window is computed
 *   once, so the inner loops carry no bounds tests.
 *
 * Global pooling, entries global_pool_avg and global_pool_max:
 *   y[p] = mean or max of x[p, 0..HW) for every plane p.
 *   Grid: (P * GLOBAL_POOL_WG), work-groups of GLOBAL_POOL_WG: one work-group per plane, its
 *   work-items stride through the plane (consecutive work-items read consecutive addresses),
 *   then a tree reduction in local memory. A 7x7 plane leaves most of its work-group idle, but
 *   such layers have thousands of planes; a 56x56 plane gives each work-item 49 loads. Average:
 *   float partial sums, error <= (HW / GLOBAL_POOL_WG + log2(GLOBAL_POOL_WG) + 1) unit
 *   roundoffs of the sum of |x|.
 *
 * Variants: these are the baselines every size and setting goes through; sizes are kernel
 * arguments, so one program serves every shape. Indices are 32-bit: the host refuses tensors
 * of 2^31 elements or more, and windows whose padded coordinates would not fit.
 */
#include "common/convkit.h"

#ifndef POOL2D_TILE_W
#define POOL2D_TILE_W 16
#endif
#ifndef POOL2D_TILE_H
#define POOL2D_TILE_H 4
#endif
#ifndef GLOBAL_POOL_WG
#define GLOBAL_POOL_WG 64
#endif

#if (GLOBAL_POOL_WG & (GLOBAL_POOL_WG - 1)) != 0
#error "GLOBAL_POOL_WG must be a power of two (tree reduction)"
#endif

/* Taps [*lo, *hi) of a window starting at `start`, k taps `d` apart, whose index lies in [0, limit). */
inline void pool2d_taps(int start, int k, int d, int limit, int* lo, int* hi)
{
    const int l = start >= 0 ? 0 : (d - 1 - start) / d;
    const int h = start >= limit ? 0 : min(k, (limit - 1 - start) / d + 1);
    *lo = l;
    *hi = max(h, l);
}

__attribute__((reqd_work_group_size(POOL2D_TILE_W, POOL2D_TILE_H, 1)))
__kernel void pool2d_max(__global const float* restrict x,
                         __global float* restrict y,
                         const int H, const int W, const int OH, const int OW,
                         const int KH, const int KW, const int SH, const int SW,
                         const int DH, const int DW,
                         const int PT, const int PL, const int PB, const int PR,
                         const int INCLUDE_PAD)
{
    const int ow = get_global_id(0);
    const int oh = get_global_id(1);
    const int p = get_global_id(2);
    if (ow >= OW || oh >= OH) {
        return;
    }
    const int ih0 = oh * SH - PT;
    const int iw0 = ow * SW - PL;
    int r0, r1, s0, s1;
    pool2d_taps(ih0, KH, DH, H, &r0, &r1);
    pool2d_taps(iw0, KW, DW, W, &s0, &s1);
    /* Index of tap (r, 0), which may lie in the padding; taps s0.. are inside the input. */
    const int base = p * H * W + ih0 * W + iw0;
    float m = -INFINITY;
    for (int r = r0; r < r1; ++r) {
        const int row = base + r * DH * W;
        for (int s = s0; s < s1; ++s) {
            m = ck_max_nan(m, x[row + s * DW]);
        }
    }
    y[(p * OH + oh) * OW + ow] = m;
}

__attribute__((reqd_work_group_size(POOL2D_TILE_W, POOL2D_TILE_H, 1)))
__kernel void pool2d_avg(__global const float* restrict x,
                         __global float* restrict y,
                         const int H, const int W, const int OH, const int OW,
                         const int KH, const int KW, const int SH, const int SW,
                         const int DH, const int DW,
                         const int PT, const int PL, const int PB, const int PR,
                         const int INCLUDE_PAD)
{
    const int ow = get_global_id(0);
    const int oh = get_global_id(1);
    const int p = get_global_id(2);
    if (ow >= OW || oh >= OH) {
        return;
    }
    const int ih0 = oh * SH - PT;
    const int iw0 = ow * SW - PL;
    int r0, r1, s0, s1;
    pool2d_taps(ih0, KH, DH, H, &r0, &r1);
    pool2d_taps(iw0, KW, DW, W, &s0, &s1);
    const int base = p * H * W + ih0 * W + iw0;
    float acc = 0.0f;
    for (int r = r0; r < r1; ++r) {
        const int row = base + r * DH * W;
        for (int s = s0; s < s1; ++s) {
            acc += x[row + s * DW];
        }
    }
    int count;
    if (INCLUDE_PAD) {
        /* A window never starts before -PT (or -PL), so only the far end is clipped. */
        int a, rows, b, cols;
        pool2d_taps(ih0 + PT, KH, DH, H + PT + PB, &a, &rows);
        pool2d_taps(iw0 + PL, KW, DW, W + PL + PR, &b, &cols);
        count = (rows - a) * (cols - b);
    } else {
        count = (r1 - r0) * (s1 - s0);
    }
    y[(p * OH + oh) * OW + ow] = acc / (float)count;
}

__attribute__((reqd_work_group_size(GLOBAL_POOL_WG, 1, 1)))
__kernel void global_pool_avg(__global const float* restrict x,
                              __global float* restrict y,
                              const int HW)
{
    __local float part[GLOBAL_POOL_WG];
    const int p = get_group_id(0);
    const int lid = get_local_id(0);
    __global const float* xp = x + p * HW;
    float acc = 0.0f;
    for (int i = lid; i < HW; i += GLOBAL_POOL_WG) {
        acc += xp[i];
    }
    part[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int step = GLOBAL_POOL_WG / 2; step > 0; step >>= 1) {
        if (lid < step) {
            part[lid] += part[lid + step];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        y[p] = part[0] / (float)HW;
    }
}

__attribute__((reqd_work_group_size(GLOBAL_POOL_WG, 1, 1)))
__kernel void global_pool_max(__global const float* restrict x,
                              __global float* restrict y,
                              const int HW)
{
    __local float part[GLOBAL_POOL_WG];
    const int p = get_group_id(0);
    const int lid = get_local_id(0);
    __global const float* xp = x + p * HW;
    float m = -INFINITY;
    for (int i = lid; i < HW; i += GLOBAL_POOL_WG) {
        m = ck_max_nan(m, xp[i]);
    }
    part[lid] = m;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int step = GLOBAL_POOL_WG / 2; step > 0; step >>= 1) {
        if (lid < step) {
            part[lid] = ck_max_nan(part[lid], part[lid + step]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        y[p] = part[0];
    }
}
