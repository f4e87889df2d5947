/*
 * upsample: nearest-neighbour and bilinear upsampling (ONNX Resize / Upsample), NCHW, float32.
 *
 *   source coordinate of output row oh:  ys = (RMUL*oh + RADD) / RDIV   (likewise xs for columns)
 *   nearest:  y[p,oh,ow] = x[p, floor(ys), floor(xs)]
 *   bilinear: y[p,oh,ow] = sum over the two rows h0 = floor(ys), h1 = h0 + 1 and the two columns,
 *             weights (1 - fy, fy) x (1 - fx, fx) with fy = ys - h0, rows and columns clamped to
 *             the image (ONNX's edge padding)
 *
 * The host turns the coordinate transform (asymmetric, half_pixel, align_corners) and the scale
 * factor into the integers MUL, ADD, DIV (org.convkit.ops.Upsample.Transform), so that floor(ys)
 * is computed exactly in 64-bit integers: every device picks the same source pixels whatever its
 * float rounding. The fractional weights come from the exact remainder, (DIV - rem) / DIV and
 * rem / DIV, each rounded once, so that neither loses accuracy near 0 or 1.
 *
 * Layout: x [P = N*C, H, W], y [P, OH, OW].
 * Grid: (roundup(OW, UPSAMPLE_TILE_W), roundup(OH, UPSAMPLE_TILE_H), P); one work-item per output
 * element: consecutive work-items read neighbouring (often the same) input pixels. A work-group
 * maps its tile's rows and columns once, into local memory (see upsample_map).
 * Variants: upsample_nearest_fwd (a copy: no arithmetic on the data, bit-exact) and
 * upsample_bilinear_fwd.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef UPSAMPLE_TILE_W
#define UPSAMPLE_TILE_W 16
#endif
#ifndef UPSAMPLE_TILE_H
#define UPSAMPLE_TILE_H 4
#endif

/* floor(p / q) for q > 0 (C division truncates toward zero). */
inline long upsample_floor_div(long p, long q)
{
    const long d = p / q;
    return (p - d * q < 0) ? d - 1 : d;
}

/* Index clamped to [0, n - 1]: the transform keeps floor(ys) in [-1, n - 1], the neighbour in [0, n]. */
inline int upsample_clamp(long i, int n)
{
    return (int) (i < 0 ? 0 : (i >= n ? n - 1 : i));
}

/*
 * A tile's source rows and columns (and bilinear weights) depend on its TILE_H rows and TILE_W
 * columns only: the first row of work-items maps the columns, the first column maps the rows,
 * into local memory, so that a work-item does (TILE_W + TILE_H) / (TILE_W * TILE_H) of a 64-bit
 * division instead of two (divisions dominated the kernel; on GPUs they are emulated).
 */
inline void upsample_map(long mul, long add, long div, int x, int n,
                         __local int* i0, __local int* i1, __local float* w0, __local float* w1)
{
    const long p = mul * x + add;
    const long f = upsample_floor_div(p, div);
    const long rem = p - f * div;
    *i0 = upsample_clamp(f, n);
    *i1 = upsample_clamp(f + 1, n);
    *w0 = (float) (div - rem) / (float) div;
    *w1 = (float) rem / (float) div;
}

__attribute__((reqd_work_group_size(UPSAMPLE_TILE_W, UPSAMPLE_TILE_H, 1)))
__kernel void upsample_nearest_fwd(__global const float* restrict x,
                                   __global float* restrict y,
                                   const int P, const int H, const int W,
                                   const int OH, const int OW,
                                   const long RMUL, const long RADD, const long RDIV,
                                   const long CMUL, const long CADD, const long CDIV)
{
    __local int rows[UPSAMPLE_TILE_H];
    __local int cols[UPSAMPLE_TILE_W];
    const int ow = get_global_id(0);
    const int oh = get_global_id(1);
    const int p = get_global_id(2);
    const int lx = get_local_id(0);
    const int ly = get_local_id(1);
    /* Every work-item reaches the barrier; out-of-range ones map the last row or column (the host
       checked that mapping the real ones cannot overflow), then leave. */
    if (ly == 0) {
        cols[lx] = upsample_clamp(upsample_floor_div(CMUL * min(ow, OW - 1) + CADD, CDIV), W);
    }
    if (lx == 0) {
        rows[ly] = upsample_clamp(upsample_floor_div(RMUL * min(oh, OH - 1) + RADD, RDIV), H);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (ow >= OW || oh >= OH) {
        return;
    }
    y[(p * OH + oh) * OW + ow] = x[(p * H + rows[ly]) * W + cols[lx]];
}

__attribute__((reqd_work_group_size(UPSAMPLE_TILE_W, UPSAMPLE_TILE_H, 1)))
__kernel void upsample_bilinear_fwd(__global const float* restrict x,
                                    __global float* restrict y,
                                    const int P, const int H, const int W,
                                    const int OH, const int OW,
                                    const long RMUL, const long RADD, const long RDIV,
                                    const long CMUL, const long CADD, const long CDIV)
{
    __local int r0[UPSAMPLE_TILE_H];
    __local int r1[UPSAMPLE_TILE_H];
    __local float wy0[UPSAMPLE_TILE_H];
    __local float wy1[UPSAMPLE_TILE_H];
    __local int c0[UPSAMPLE_TILE_W];
    __local int c1[UPSAMPLE_TILE_W];
    __local float wx0[UPSAMPLE_TILE_W];
    __local float wx1[UPSAMPLE_TILE_W];
    const int ow = get_global_id(0);
    const int oh = get_global_id(1);
    const int p = get_global_id(2);
    const int lx = get_local_id(0);
    const int ly = get_local_id(1);
    if (ly == 0) {
        upsample_map(CMUL, CADD, CDIV, min(ow, OW - 1), W, &c0[lx], &c1[lx], &wx0[lx], &wx1[lx]);
    }
    if (lx == 0) {
        upsample_map(RMUL, RADD, RDIV, min(oh, OH - 1), H, &r0[ly], &r1[ly], &wy0[ly], &wy1[ly]);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (ow >= OW || oh >= OH) {
        return;
    }
    __global const float* xp = x + p * H * W;
    const int h0 = r0[ly] * W;
    const int h1 = r1[ly] * W;
    const int w0 = c0[lx];
    const int w1 = c1[lx];
    const float top = wx0[lx] * xp[h0 + w0] + wx1[lx] * xp[h0 + w1];
    const float bottom = wx0[lx] * xp[h1 + w0] + wx1[lx] * xp[h1 + w1];
    y[(p * OH + oh) * OW + ow] = wy0[ly] * top + wy1[ly] * bottom;
}
