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
 * element: consecutive work-items read neighbouring (often the same) input pixels.
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

__attribute__((reqd_work_group_size(UPSAMPLE_TILE_W, UPSAMPLE_TILE_H, 1)))
__kernel void upsample_nearest_fwd(__global const float* restrict x,
                                   __global float* restrict y,
                                   const int P, const int H, const int W,
                                   const int OH, const int OW,
                                   const long RMUL, const long RADD, const long RDIV,
                                   const long CMUL, const long CADD, const long CDIV)
{
    const int ow = get_global_id(0);
    const int oh = get_global_id(1);
    const int p = get_global_id(2);
    if (ow >= OW || oh >= OH) {
        return;
    }
    const int ih = upsample_clamp(upsample_floor_div(RMUL * oh + RADD, RDIV), H);
    const int iw = upsample_clamp(upsample_floor_div(CMUL * ow + CADD, CDIV), W);
    y[(p * OH + oh) * OW + ow] = x[(p * H + ih) * W + iw];
}

__attribute__((reqd_work_group_size(UPSAMPLE_TILE_W, UPSAMPLE_TILE_H, 1)))
__kernel void upsample_bilinear_fwd(__global const float* restrict x,
                                    __global float* restrict y,
                                    const int P, const int H, const int W,
                                    const int OH, const int OW,
                                    const long RMUL, const long RADD, const long RDIV,
                                    const long CMUL, const long CADD, const long CDIV)
{
    const int ow = get_global_id(0);
    const int oh = get_global_id(1);
    const int p = get_global_id(2);
    if (ow >= OW || oh >= OH) {
        return;
    }
    const long pr = RMUL * oh + RADD;
    const long r0 = upsample_floor_div(pr, RDIV);
    const long rrem = pr - r0 * RDIV;
    const float wy1 = (float) rrem / (float) RDIV;
    const float wy0 = (float) (RDIV - rrem) / (float) RDIV;
    const long pc = CMUL * ow + CADD;
    const long c0 = upsample_floor_div(pc, CDIV);
    const long crem = pc - c0 * CDIV;
    const float wx1 = (float) crem / (float) CDIV;
    const float wx0 = (float) (CDIV - crem) / (float) CDIV;

    __global const float* xp = x + p * H * W;
    const int h0 = upsample_clamp(r0, H) * W;
    const int h1 = upsample_clamp(r0 + 1, H) * W;
    const int w0 = upsample_clamp(c0, W);
    const int w1 = upsample_clamp(c0 + 1, W);
    const float top = wx0 * xp[h0 + w0] + wx1 * xp[h0 + w1];
    const float bottom = wx0 * xp[h1 + w0] + wx1 * xp[h1 + w1];
    y[(p * OH + oh) * OW + ow] = wy0 * top + wy1 * bottom;
}
