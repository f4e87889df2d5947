/*
 * pool2d_grad: the input gradients of max and average pooling (and of global pooling), float32,
 * NCHW; the CUDA twin of pool2d_grad.cl (same entries, arguments, grids and results; see
 * common/cuda_compat.h). A thread per input element gathers from the windows holding it:
 *   pool2d_grad_avg: dy[o] / count(o), the forward's divisor;
 *   pool2d_grad_max: dy[o] where x[i] is the window's first tap equal to y[o] (NaN equals NaN).
 * Built with (the host launches with exactly these): POOL2D_GRAD_WG 256.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef POOL2D_GRAD_WG
#define POOL2D_GRAD_WG 256
#endif

/* Taps j < k of a window starting at `start` (dilation d) with start + j*d in [0, limit). */
CK_FUNC int pool2d_grad_taps(int start, int k, int d, int limit)
{
    const int lo = start >= 0 ? 0 : (d - 1 - start) / d;
    const int hi = start >= limit ? 0 : min(k, (limit - 1 - start) / d + 1);
    return hi > lo ? hi - lo : 0;
}

/* Whether a and b are the same value for the maximum's purpose (NaN equals NaN). */
CK_FUNC int pool2d_grad_same(float a, float b)
{
    return a == b || (a != a && b != b);
}

extern "C" __global__ void __launch_bounds__(POOL2D_GRAD_WG)
pool2d_grad_avg(const float* __restrict__ dy,
                              float* __restrict__ dx,
                              const int P, const int H, const int W, const int OH, const int OW,
                              const int KH, const int KW, const int SH, const int SW,
                              const int DH, const int DW,
                              const int PT, const int PL, const int PB, const int PR,
                              const int INCLUDE_PAD)
{
    const int i = ck_global_id_x();
    if (i >= P * H * W) {
        return;
    }
    const int iw = i % W;
    const int t = i / W;
    const int ih = t % H;
    const int p = t / H;
    float acc = 0.0f;
    for (int r = 0; r < KH; ++r) {
        const int ra = ih + PT - r * DH;
        if (ra < 0) {
            break;
        }
        if (ra % SH != 0 || ra / SH >= OH) {
            continue;
        }
        const int oh = ra / SH;
        const int ih0 = oh * SH - PT;
        const int rows = INCLUDE_PAD ? pool2d_grad_taps(ih0 + PT, KH, DH, H + PT + PB) : pool2d_grad_taps(ih0, KH, DH, H);
        for (int s = 0; s < KW; ++s) {
            const int sb = iw + PL - s * DW;
            if (sb < 0) {
                break;
            }
            if (sb % SW != 0 || sb / SW >= OW) {
                continue;
            }
            const int ow = sb / SW;
            const int iw0 = ow * SW - PL;
            const int cols = INCLUDE_PAD ? pool2d_grad_taps(iw0 + PL, KW, DW, W + PL + PR)
                                         : pool2d_grad_taps(iw0, KW, DW, W);
            acc += dy[(p * OH + oh) * OW + ow] / (float) (rows * cols);
        }
    }
    dx[i] = acc;
}

extern "C" __global__ void __launch_bounds__(POOL2D_GRAD_WG)
pool2d_grad_max(const float* __restrict__ dy,
                              const float* __restrict__ x,
                              const float* __restrict__ y,
                              float* __restrict__ dx,
                              const int P, const int H, const int W, const int OH, const int OW,
                              const int KH, const int KW, const int SH, const int SW,
                              const int DH, const int DW,
                              const int PT, const int PL, const int PB, const int PR,
                              const int INCLUDE_PAD)
{
    const int i = ck_global_id_x();
    if (i >= P * H * W) {
        return;
    }
    const int iw = i % W;
    const int t = i / W;
    const int ih = t % H;
    const int p = t / H;
    const float v = x[i];
    const float* xp = x + p * H * W;
    float acc = 0.0f;
    for (int r = 0; r < KH; ++r) {
        const int ra = ih + PT - r * DH;
        if (ra < 0) {
            break;
        }
        if (ra % SH != 0 || ra / SH >= OH) {
            continue;
        }
        const int oh = ra / SH;
        for (int s = 0; s < KW; ++s) {
            const int sb = iw + PL - s * DW;
            if (sb < 0) {
                break;
            }
            if (sb % SW != 0 || sb / SW >= OW) {
                continue;
            }
            const int ow = sb / SW;
            const int o = (p * OH + oh) * OW + ow;
            const float m = y[o];
            if (!pool2d_grad_same(v, m)) {
                continue;
            }
            /* The maximum belongs to the first tap holding it: look for an earlier one. */
            int first = 1;
            for (int r2 = 0; r2 <= r && first; ++r2) {
                const int h2 = oh * SH - PT + r2 * DH;
                if (h2 < 0 || h2 >= H) {
                    continue;
                }
                const int last = r2 < r ? KW : s;
                for (int s2 = 0; s2 < last; ++s2) {
                    const int w2 = ow * SW - PL + s2 * DW;
                    if (w2 >= 0 && w2 < W && pool2d_grad_same(xp[h2 * W + w2], m)) {
                        first = 0;
                        break;
                    }
                }
            }
            if (first) {
                acc += dy[o];
            }
        }
    }
    dx[i] = acc;
}
