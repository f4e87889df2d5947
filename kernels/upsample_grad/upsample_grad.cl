/*
 * upsample_grad: the input gradient of nearest and bilinear upsampling, float32, NCHW;
 * org.convkit.ops.grad.UpsampleGrad. Output index o of an axis reads the source coordinate
 * (MUL * o + ADD) / DIV exactly (upsample/upsample.cl's transforms): nearest the index
 * f = floor of it, bilinear f and f + 1 (clamped to the axis) with weights (DIV - rem) / DIV and
 * rem / DIV. Each input pixel gathers dy over the outputs that read it:
 *
 *   dx[p, i, j] = sum_{oh, ow} wr(oh, i) * wc(ow, j) * dy[p, oh, ow]
 *
 * wr(oh, i) being the weight output row oh gives input row i (the sum of both neighbours' when
 * both clamp to i), likewise wc. The outputs reading index i are those with f in [i - 1, i]: a
 * range found by one division (widened by one on each side; the weights decide). Grid: 1-D,
 * roundup(P*H*W, UPSAMPLE_GRAD_WG), one work-item per input element (deterministic). Indices are
 * 32-bit (the coordinates 64-bit, as in the forward): the host refuses tensors of 2^31 elements or
 * more.
 */
#include "common/convkit.h"

#ifndef UPSAMPLE_GRAD_WG
#define UPSAMPLE_GRAD_WG 256
#endif

/* floor(p / q) for q > 0 (C division truncates toward zero). */
inline long upsample_grad_floor_div(long p, long q)
{
    const long d = p / q;
    return (p - d * q < 0) ? d - 1 : d;
}

/* The weight output o of an axis of n inputs gives input i. */
inline float upsample_grad_weight(long mul, long add, long div, int o, int i, int n, int bilinear)
{
    const long p = mul * o + add;
    const long f = upsample_grad_floor_div(p, div);
    const int lo = (int) (f < 0 ? 0 : (f >= n ? n - 1 : f));
    if (!bilinear) {
        return lo == i ? 1.0f : 0.0f;
    }
    const int hi = (int) (f + 1 < 0 ? 0 : (f + 1 >= n ? n - 1 : f + 1));
    const long rem = p - f * div;
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
inline void upsample_grad_range(long mul, long add, long div, int i, int out, int* first, int* last)
{
    if (mul == 0) {
        *first = 0;
        *last = out - 1;
        return;
    }
    const long a = upsample_grad_floor_div((long) (i - 1) * div - add, mul) - 1;
    const long b = upsample_grad_floor_div((long) (i + 1) * div - add, mul) + 1;
    *first = (int) (a < 0 ? 0 : (a >= out ? out - 1 : a));
    *last = (int) (b < 0 ? 0 : (b >= out ? out - 1 : b));
}

__attribute__((reqd_work_group_size(UPSAMPLE_GRAD_WG, 1, 1)))
__kernel void upsample_grad(__global const float* restrict dy,
                            __global float* restrict dx,
                            const int P, const int H, const int W, const int OH, const int OW,
                            const long RMUL, const long RADD, const long RDIV,
                            const long CMUL, const long CADD, const long CDIV,
                            const int BILINEAR)
{
    const int idx = get_global_id(0);
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
    for (int oh = r0; oh <= r1; ++oh) {
        const float wr = upsample_grad_weight(RMUL, RADD, RDIV, oh, i, H, BILINEAR);
        if (wr == 0.0f) {
            continue;
        }
        float row = 0.0f;
        for (int ow = c0; ow <= c1; ++ow) {
            const float wc = upsample_grad_weight(CMUL, CADD, CDIV, ow, j, W, BILINEAR);
            row += wc * dy[(p * OH + oh) * OW + ow];
        }
        acc += wr * row;
    }
    dx[idx] = acc;
}
