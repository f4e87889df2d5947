/*
 * upsample: nearest-neighbour and bilinear upsampling (ONNX Resize / Upsample), NCHW, float32; the
 * CUDA twin of upsample.cl (same entries, arguments, grids and results; common/cuda_compat.h).
 *
 *   source coordinate of output row oh:  ys = (RMUL*oh + RADD) / RDIV   (likewise xs for columns)
 *   nearest:  y[p,oh,ow] = x[p, floor(ys), floor(xs)]
 *   bilinear: the two rows floor(ys), floor(ys) + 1 and two columns, weights (1 - fy, fy) x
 *             (1 - fx, fx), rows and columns clamped to the image (ONNX's edge padding)
 *
 * floor(ys) is computed exactly in 64-bit integers from the host's MUL, ADD, DIV
 * (org.convkit.ops.Upsample.Transform; OpenCL long = CUDA long long), so every device picks the
 * same source pixels; the weights come from the exact remainder, (DIV - rem) / DIV and rem / DIV.
 * Layout: x [P = N*C, H, W], y [P, OH, OW].
 * Grid: (ceil(OW / UPSAMPLE_TILE_W), ceil(OH / UPSAMPLE_TILE_H), P) blocks of (UPSAMPLE_TILE_W,
 * UPSAMPLE_TILE_H, 1), one thread per output element. A block maps its tile's rows and columns once
 * into shared memory (the first row of threads the columns, the first column the rows): 64-bit
 * division is a long emulated sequence on GPUs, and this leaves (TILE_W + TILE_H) of them per
 * block instead of two per thread.
 * Variants: upsample_nearest_fwd (a copy, bit-exact) and upsample_bilinear_fwd.
 * Built with (the host launches with exactly these): UPSAMPLE_TILE_W 16, UPSAMPLE_TILE_H 4.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef UPSAMPLE_TILE_W
#define UPSAMPLE_TILE_W 16
#endif
#ifndef UPSAMPLE_TILE_H
#define UPSAMPLE_TILE_H 4
#endif

/* floor(p / q) for q > 0 (C division truncates toward zero). */
CK_FUNC long long upsample_floor_div(long long p, long long q)
{
    const long long d = p / q;
    return (p - d * q < 0) ? d - 1 : d;
}

/* Index clamped to [0, n - 1]: the transform keeps floor(ys) in [-1, n - 1], the neighbour in [0, n]. */
CK_FUNC int upsample_clamp(long long i, int n)
{
    return (int) (i < 0 ? 0 : (i >= n ? n - 1 : i));
}

/* One source row or column of the tile and its two bilinear weights, stored to shared memory. */
CK_FUNC void upsample_map(long long mul, long long add, long long div, int x, int n,
                          int* i0, int* i1, float* w0, float* w1)
{
    const long long p = mul * x + add;
    const long long f = upsample_floor_div(p, div);
    const long long rem = p - f * div;
    *i0 = upsample_clamp(f, n);
    *i1 = upsample_clamp(f + 1, n);
    *w0 = (float) (div - rem) / (float) div;
    *w1 = (float) rem / (float) div;
}

extern "C" __global__ void __launch_bounds__(UPSAMPLE_TILE_W * UPSAMPLE_TILE_H)
upsample_nearest_fwd(const float* __restrict__ x, float* __restrict__ y,
                     const int P, const int H, const int W, const int OH, const int OW,
                     const long long RMUL, const long long RADD, const long long RDIV,
                     const long long CMUL, const long long CADD, const long long CDIV)
{
    __shared__ int rows[UPSAMPLE_TILE_H];
    __shared__ int cols[UPSAMPLE_TILE_W];
    const int ow = ck_global_id_x();
    const int oh = ck_global_id_y();
    const int p = ck_global_id_z();
    const int lx = threadIdx.x;
    const int ly = threadIdx.y;
    /* Every thread reaches the barrier; out-of-range ones map the last row or column (the host
       checked that mapping the real ones cannot overflow), then leave. */
    if (ly == 0) {
        cols[lx] = upsample_clamp(upsample_floor_div(CMUL * min(ow, OW - 1) + CADD, CDIV), W);
    }
    if (lx == 0) {
        rows[ly] = upsample_clamp(upsample_floor_div(RMUL * min(oh, OH - 1) + RADD, RDIV), H);
    }
    __syncthreads();
    if (ow >= OW || oh >= OH) {
        return;
    }
    y[(p * OH + oh) * OW + ow] = x[(p * H + rows[ly]) * W + cols[lx]];
}

extern "C" __global__ void __launch_bounds__(UPSAMPLE_TILE_W * UPSAMPLE_TILE_H)
upsample_bilinear_fwd(const float* __restrict__ x, float* __restrict__ y,
                      const int P, const int H, const int W, const int OH, const int OW,
                      const long long RMUL, const long long RADD, const long long RDIV,
                      const long long CMUL, const long long CADD, const long long CDIV)
{
    __shared__ int r0[UPSAMPLE_TILE_H];
    __shared__ int r1[UPSAMPLE_TILE_H];
    __shared__ float wy0[UPSAMPLE_TILE_H];
    __shared__ float wy1[UPSAMPLE_TILE_H];
    __shared__ int c0[UPSAMPLE_TILE_W];
    __shared__ int c1[UPSAMPLE_TILE_W];
    __shared__ float wx0[UPSAMPLE_TILE_W];
    __shared__ float wx1[UPSAMPLE_TILE_W];
    const int ow = ck_global_id_x();
    const int oh = ck_global_id_y();
    const int p = ck_global_id_z();
    const int lx = threadIdx.x;
    const int ly = threadIdx.y;
    if (ly == 0) {
        upsample_map(CMUL, CADD, CDIV, min(ow, OW - 1), W, &c0[lx], &c1[lx], &wx0[lx], &wx1[lx]);
    }
    if (lx == 0) {
        upsample_map(RMUL, RADD, RDIV, min(oh, OH - 1), H, &r0[ly], &r1[ly], &wy0[ly], &wy1[ly]);
    }
    __syncthreads();
    if (ow >= OW || oh >= OH) {
        return;
    }
    const float* xp = x + p * H * W;
    const int h0 = r0[ly] * W;
    const int h1 = r1[ly] * W;
    const int w0 = c0[lx];
    const int w1 = c1[lx];
    const float top = wx0[lx] * xp[h0 + w0] + wx1[lx] * xp[h0 + w1];
    const float bottom = wx0[lx] * xp[h1 + w0] + wx1[lx] * xp[h1 + w1];
    y[(p * OH + oh) * OW + ow] = wy0[ly] * top + wy1[ly] * bottom;
}
