/*
 * pool2d: max and average pooling and global pooling, NCHW, float32 (ONNX MaxPool, AveragePool,
 * GlobalAveragePool, GlobalMaxPool); the CUDA twin of pool2d.cl (same entries, arguments, grids and
 * results; see common/cuda_compat.h for the launch contract).
 *
 * Windowed pooling, pool2d_max and pool2d_avg (same arguments): window of y[p, oh, ow] (p = n*C + c)
 * = x[p, oh*SH - PT + r*DH, ow*SW - PL + s*DW], r < KH, s < KW; max over the taps inside the input
 * (padding never wins, NaN propagates through ck_max_nan), average = their sum divided by their
 * count or, with INCLUDE_PAD, by the count of taps inside the padded input (ONNX
 * count_include_pad). The host guarantees every window holds at least one input tap.
 * Grid: (ceil(OW / POOL2D_TILE_W), ceil(OH / POOL2D_TILE_H), N*C) blocks of (POOL2D_TILE_W,
 * POOL2D_TILE_H, 1), one thread per output element; the in-input tap range of each window is
 * computed once, so the inner loops carry no bounds tests.
 *
 * Global pooling, global_pool_avg and global_pool_max: y[p] = mean or max of x[p, 0..HW).
 * Grid: P blocks of GLOBAL_POOL_WG, one block per plane: its threads stride through the plane
 * (coalesced), then the .cl's halving tree, the same pairs in the same order (bit-identical
 * partials), but only its steps of 64 and more go through shared memory and barriers: the rest
 * are warp shuffles (ck_block_tree, common/cuda_compat.h).
 * Built with (the host launches with exactly these): POOL2D_TILE_W 16, POOL2D_TILE_H 4,
 * GLOBAL_POOL_WG 64.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more, and windows whose padded
 * coordinates would not fit.
 */
#include "common/cuda_compat.h"

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
CK_FUNC void pool2d_taps(int start, int k, int d, int limit, int* lo, int* hi)
{
    const int l = start >= 0 ? 0 : (d - 1 - start) / d;
    const int h = start >= limit ? 0 : min(k, (limit - 1 - start) / d + 1);
    *lo = l;
    *hi = max(h, l);
}

extern "C" __global__ void __launch_bounds__(POOL2D_TILE_W * POOL2D_TILE_H)
pool2d_max(const float* __restrict__ x, float* __restrict__ y,
           const int H, const int W, const int OH, const int OW,
           const int KH, const int KW, const int SH, const int SW,
           const int DH, const int DW,
           const int PT, const int PL, const int PB, const int PR,
           const int INCLUDE_PAD)
{
    const int ow = ck_global_id_x();
    const int oh = ck_global_id_y();
    const int p = ck_global_id_z();
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

extern "C" __global__ void __launch_bounds__(POOL2D_TILE_W * POOL2D_TILE_H)
pool2d_avg(const float* __restrict__ x, float* __restrict__ y,
           const int H, const int W, const int OH, const int OW,
           const int KH, const int KW, const int SH, const int SW,
           const int DH, const int DW,
           const int PT, const int PL, const int PB, const int PR,
           const int INCLUDE_PAD)
{
    const int ow = ck_global_id_x();
    const int oh = ck_global_id_y();
    const int p = ck_global_id_z();
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
    y[(p * OH + oh) * OW + ow] = acc / (float) count;
}

extern "C" __global__ void __launch_bounds__(GLOBAL_POOL_WG)
global_pool_avg(const float* __restrict__ x, float* __restrict__ y, const int HW)
{
    __shared__ float part[GLOBAL_POOL_WG];
    const int p = blockIdx.x;
    const int lid = threadIdx.x;
    const float* xp = x + p * HW;
    float acc = 0.0f;
    for (int i = lid; i < HW; i += GLOBAL_POOL_WG) {
        acc += xp[i];
    }
    acc = ck_block_tree<GLOBAL_POOL_WG>(acc, part, ck_op_sum());
    if (lid == 0) {
        y[p] = acc / (float) HW;
    }
}

extern "C" __global__ void __launch_bounds__(GLOBAL_POOL_WG)
global_pool_max(const float* __restrict__ x, float* __restrict__ y, const int HW)
{
    __shared__ float part[GLOBAL_POOL_WG];
    const int p = blockIdx.x;
    const int lid = threadIdx.x;
    const float* xp = x + p * HW;
    float m = -INFINITY;
    for (int i = lid; i < HW; i += GLOBAL_POOL_WG) {
        m = ck_max_nan(m, xp[i]);
    }
    m = ck_block_tree<GLOBAL_POOL_WG>(m, part, ck_op_max_nan());
    if (lid == 0) {
        y[p] = m;
    }
}
