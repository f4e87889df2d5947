/*
 * upsample_grad: the input gradient of nearest and bilinear upsampling, float32, NCHW; the CUDA
 * twin of upsample_grad.cl (same entry, arguments, grid and results; see common/cuda_compat.h):
 * each input pixel gathers dy over the outputs that read it, weighted by the forward's exact
 * coordinate transforms (MUL * o + ADD) / DIV per axis. A thread per input element.
 * Built with (the host launches with exactly these): UPSAMPLE_GRAD_WG 256.
 * Indices are 32-bit (coordinates 64-bit): the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef UPSAMPLE_GRAD_WG
#define UPSAMPLE_GRAD_WG 256
#endif

/* floor(p / q) for q > 0 (C division truncates toward zero). */
CK_FUNC long long upsample_grad_floor_div(long long p, long long q)
{
    const long long d = p / q;
    return (p - d * q < 0) ? d - 1 : d;
}

/* The weight output o of an axis of n inputs gives input i. */
CK_FUNC float upsample_grad_weight(long long mul, long long add, long long div, int o, int i, int n, int bilinear)
{
    const long long p = mul * o + add;
    const long long f = upsample_grad_floor_div(p, div);
    const int lo = (int) (f < 0 ? 0 : (f >= n ? n - 1 : f));
    if (!bilinear) {
        return lo == i ? 1.0f : 0.0f;
    }
    const int hi = (int) (f + 1 < 0 ? 0 : (f + 1 >= n ? n - 1 : f + 1));
    const long long rem = p - f * div;
    float w = 0.0f;
    if (lo == i) {
        w += (float) (div - rem) / (float) div;
    }
    if (hi == i) {
        w += (float) rem / (float) div;
    }
    return w;
}

/* The first and last output (of out) that can read input i: those whose floor lies in [i - 1, i], widened by one. */
CK_FUNC void upsample_grad_range(long long mul, long long add, long long div, int i, int out, int* first, int* last)
{
    if (mul == 0) {
        *first = 0;
        *last = out - 1;
        return;
    }
    const long long a = upsample_grad_floor_div((long long) (i - 1) * div - add, mul) - 1;
    const long long b = upsample_grad_floor_div((long long) (i + 1) * div - add, mul) + 1;
    *first = (int) (a < 0 ? 0 : (a >= out ? out - 1 : a));
    *last = (int) (b < 0 ? 0 : (b >= out ? out - 1 : b));
}

extern "C" __global__ void __launch_bounds__(UPSAMPLE_GRAD_WG)
upsample_grad(const float* __restrict__ dy,
              float* __restrict__ dx,
              const int P, const int H, const int W, const int OH, const int OW,
              const long long RMUL, const long long RADD, const long long RDIV,
              const long long CMUL, const long long CADD, const long long CDIV,
              const int BILINEAR)
{
    const int idx = ck_global_id_x();
    if (idx >= P * H * W) {
        return;
    }
    const int j = idx % W;
    const int i = (idx / W) % H;
    const int p = idx / (W * H);
    int r0;
    int r1;
    int c0;
    int c1;
    upsample_grad_range(RMUL, RADD, RDIV, i, OH, &r0, &r1);
    upsample_grad_range(CMUL, CADD, CDIV, j, OW, &c0, &c1);
    float acc = 0.0f;
    /* Neither loop unrolled: unrolled, ptxas spilled on sm_90. */
#pragma unroll 1
    for (int oh = r0; oh <= r1; ++oh) {
        const float wr = upsample_grad_weight(RMUL, RADD, RDIV, oh, i, H, BILINEAR);
        if (wr == 0.0f) {
            continue;
        }
        float row = 0.0f;
#pragma unroll 1
        for (int ow = c0; ow <= c1; ++ow) {
            const float wc = upsample_grad_weight(CMUL, CADD, CDIV, ow, j, W, BILINEAR);
            row += wc * dy[(p * OH + oh) * OW + ow];
        }
        acc += wr * row;
    }
    dx[idx] = acc;
}
