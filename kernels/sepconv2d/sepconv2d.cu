/*
 * sepconv2d: depthwise-separable convolution, fused, NCHW, float32; the CUDA twin of sepconv2d.cl
 * (same entry, arguments, grid and results; see common/cuda_compat.h for the launch contract).
 *
 *   d[n,c,p] = between( db[c] + sum_{r,s} x[n, c / M, oh*SH - PT + r*DH, ow*SW - PL + s*DW] * dw[c, r, s] )
 *   y[n,o,p] = act( pb[o] + sum_c pw[o, c] * d[n,c,p] )          c < CM = C*M,  p = (oh, ow)
 *   both sums the .cl's fmaf chains, in the same order.
 *
 * Layout: x [N,C,H,W], dw [CM,1,KH,KW], db [CM] or NULL, pw [OC,CM,1,1], pb [OC] or NULL,
 * y [N,OC,OH,OW].
 * Grid: (ceil(OH*OW / SEP_TP), ceil(OC / (SEP_TO*SEP_OCB)), N) blocks of (SEP_TP, SEP_TO, 1). A block
 * owns SEP_TP output pixels and SEP_TO*SEP_OCB output channels, a thread SEP_OCB channels of one
 * pixel (in registers). For each chunk of SEP_CC depthwise channels the block computes d for its
 * pixels into shared memory (every thread a share), then the pointwise sums consume it: reads
 * d[cc][lp] are conflict-free (a warp is two rows of 16 pixels, or broadcasts), and the pointwise
 * weight row is the same for the 16 threads of a half-warp (one broadcast). d never goes to
 * global memory.
 * Built with (the host launches with exactly these): SEP_TP 16, SEP_TO 16, SEP_OCB 4, SEP_CC 32.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef SEP_TP
#define SEP_TP 16
#endif
#ifndef SEP_TO
#define SEP_TO 16
#endif
#ifndef SEP_OCB
#define SEP_OCB 4
#endif
#ifndef SEP_CC
#define SEP_CC 32
#endif

extern "C" __global__ void __launch_bounds__(SEP_TP * SEP_TO)
sepconv2d_fwd(const float* __restrict__ x, const float* __restrict__ dw, const float* __restrict__ db,
              const float* __restrict__ pw, const float* __restrict__ pb, float* __restrict__ y,
              const int C, const int H, const int W, const int M,
              const int OC, const int OH, const int OW,
              const int KH, const int KW, const int SH, const int SW,
              const int DH, const int DW, const int PT, const int PL,
              const int BETWEEN, const int ACT)
{
    __shared__ float d[SEP_CC][SEP_TP];
    const int lp = threadIdx.x;
    const int lo = threadIdx.y;
    const int n = ck_global_id_z();
    const int tile = blockIdx.x * SEP_TP;
    const int ocBase = blockIdx.y * (SEP_TO * SEP_OCB);
    const int ohw = OH * OW;
    const int p = tile + lp;
    const int CM = C * M;

    float acc[SEP_OCB];
#pragma unroll
    for (int j = 0; j < SEP_OCB; ++j) {
        acc[j] = 0.0f;
    }

    for (int c0 = 0; c0 < CM; c0 += SEP_CC) {
        /* Depthwise values of this chunk for the tile's pixels, shared by the whole block. */
        for (int i = lo * SEP_TP + lp; i < SEP_CC * SEP_TP; i += SEP_TP * SEP_TO) {
            const int cc = i / SEP_TP;
            const int pp = i - cc * SEP_TP;
            const int c = c0 + cc;
            const int q = tile + pp;
            float v = 0.0f;
            if (c < CM && q < ohw) {
                const int oh = q / OW;
                const int ow = q - oh * OW;
                const int ih0 = oh * SH - PT;
                const int iw0 = ow * SW - PL;
                const float* xp = x + (n * C + c / M) * H * W;
                const float* wp = dw + c * KH * KW;
                v = (db != 0) ? db[c] : 0.0f;
                for (int r = 0; r < KH; ++r) {
                    const int ih = ih0 + r * DH;
                    if (ih < 0 || ih >= H) {
                        continue;
                    }
                    for (int s = 0; s < KW; ++s) {
                        const int iw = iw0 + s * DW;
                        if (iw >= 0 && iw < W) {
                            v = fmaf(xp[ih * W + iw], wp[r * KW + s], v);
                        }
                    }
                }
                v = ck_activate(v, BETWEEN);
            }
            d[cc][pp] = v;
        }
        __syncthreads();
        const int chunk = min(SEP_CC, CM - c0);
#pragma unroll
        for (int j = 0; j < SEP_OCB; ++j) {
            const int o = ocBase + lo + j * SEP_TO;
            if (o < OC) {
                const float* wrow = pw + o * CM + c0;
                float a = acc[j];
                for (int cc = 0; cc < chunk; ++cc) {
                    a = fmaf(wrow[cc], d[cc][lp], a);
                }
                acc[j] = a;
            }
        }
        __syncthreads();
    }

    if (p < ohw) {
#pragma unroll
        for (int j = 0; j < SEP_OCB; ++j) {
            const int o = ocBase + lo + j * SEP_TO;
            if (o < OC) {
                const float b = (pb != 0) ? pb[o] : 0.0f;
                y[(n * OC + o) * ohw + p] = ck_activate(acc[j] + b, ACT);
            }
        }
    }
}
