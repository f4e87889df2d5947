/*
 * se: the squeeze-and-excitation block (SENet), fused into one op, float32, NCHW.
 *
 *   p[n,c] = mean_{h,w} x[n,c,h,w]                          se_pool
 *   h[n,j] = relu(b1[j] + sum_c W1[j,c] p[n,c])              se_dense (ACT = CK_ACT_RELU)
 *   s[n,c] = sigmoid(b2[c] + sum_j W2[c,j] h[n,j])           se_dense (ACT = SE_ACT_SIGMOID)
 *   y[n,c,h,w] = x[n,c,h,w] * s[n,c]                         se_scale
 *
 * Layout: x, y [N,C,H,W]; W1 [HID,C], b1 [HID], W2 [C,HID], b2 [C] (PyTorch Linear [out, in]).
 * The host launches the four steps in order on one in-order queue. p, h and s live in the
 * caller's workspace buffer ws, at float offsets the host passes (p, then h, then s); the
 * kernels never allocate.
 *
 * Grids:
 *   se_pool   one work-group of SE_WG per (n,c) plane: the work-items sum strided slices of the
 *             plane, then a tree reduction in local memory; work-item 0 writes the mean.
 *   se_dense  one work-group of SE_WG per output (n,o): the same strided sum and tree over the
 *             IN inputs of one dense unit. A work-group per unit (rather than a work-item) keeps
 *             a GPU busy even for C = 2048, HID = 128, where N*HID outputs alone are few.
 *   se_scale  2-D, (H*W rounded up to SE_SCALE_WG, N*C): a work-group covers part of one plane,
 *             so its scale is one value and x and y are read and written contiguously, with no
 *             division per element; work-items past the plane's end return.
 * Why not fewer launches: every s[n,c] depends on all of x[n] through the dense layers, so the
 * pooling must finish before any scale; OpenCL has no grid-wide barrier, so the launches are
 * the synchronisation. The dense steps are O(N*C*HID), tiny next to the two passes over x.
 * SE_WG must be a power of two (the tree halves it). Indices are 32-bit: the host refuses
 * tensors of 2^31 elements or more. NaN propagates: sums, relu (ck_activate) and the sigmoid
 * (exp of NaN is NaN) all keep it.
 */
#include "common/convkit.h"

#ifndef SE_WG
#define SE_WG 64
#endif
#ifndef SE_SCALE_WG
#define SE_SCALE_WG 64
#endif

/* Activation code of the second dense layer; 0 and 1 are the shared CK_ACT_* codes. */
#define SE_ACT_SIGMOID 2

/* Sums the SE_WG partial sums in `part`; every work-item must call it; the total ends in part[0]. */
inline void se_reduce(__local float* part)
{
    const int t = get_local_id(0);
    for (int span = SE_WG / 2; span > 0; span >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (t < span) {
            part[t] += part[t + span];
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

__attribute__((reqd_work_group_size(SE_WG, 1, 1)))
__kernel void se_pool(__global const float* restrict x,
                      __global float* restrict ws,
                      const int HW, const int P_OFF)
{
    __local float part[SE_WG];
    const int plane = get_group_id(0);
    const int t = get_local_id(0);
    __global const float* xp = x + plane * HW;
    float acc = 0.0f;
    for (int i = t; i < HW; i += SE_WG) {
        acc += xp[i];
    }
    part[t] = acc;
    se_reduce(part);
    if (t == 0) {
        ws[P_OFF + plane] = part[0] / (float) HW;
    }
}

__attribute__((reqd_work_group_size(SE_WG, 1, 1)))
__kernel void se_dense(__global float* ws,
                       __global const float* restrict w,
                       __global const float* restrict bias,
                       const int IN, const int OUT, const int IN_OFF, const int OUT_OFF, const int ACT)
{
    __local float part[SE_WG];
    const int g = get_group_id(0);
    const int n = g / OUT;
    const int o = g - n * OUT;
    const int t = get_local_id(0);
    __global const float* in = ws + IN_OFF + n * IN;
    __global const float* wr = w + o * IN;
    float acc = 0.0f;
    for (int k = t; k < IN; k += SE_WG) {
        acc = fma(wr[k], in[k], acc);
    }
    part[t] = acc;
    se_reduce(part);
    if (t == 0) {
        const float v = part[0] + bias[o];
        ws[OUT_OFF + n * OUT + o] = (ACT == SE_ACT_SIGMOID) ? 1.0f / (1.0f + exp(-v)) : ck_activate(v, ACT);
    }
}

__attribute__((reqd_work_group_size(SE_SCALE_WG, 1, 1)))
__kernel void se_scale(__global const float* restrict x,
                       __global const float* restrict ws,
                       __global float* restrict y,
                       const int HW, const int S_OFF)
{
    const int i = get_global_id(0);
    const int plane = get_global_id(1);
    if (i >= HW) {
        return;
    }
    const int at = plane * HW + i;
    y[at] = x[at] * ws[S_OFF + plane];
}
