/*
 * se: the squeeze-and-excitation block (SENet), fused into one op, float32, NCHW; the CUDA twin of
 * se.cl (same entries, arguments, grids and results; see common/cuda_compat.h).
 *
 *   p[n,c] = mean_{h,w} x[n,c,h,w]                          se_pool
 *   h[n,j] = relu(b1[j] + sum_c W1[j,c] p[n,c])              se_dense (ACT = CK_ACT_RELU)
 *   s[n,c] = sigmoid(b2[c] + sum_j W2[c,j] h[n,j])           se_dense (ACT = SE_ACT_SIGMOID)
 *   y[n,c,h,w] = x[n,c,h,w] * s[n,c]                         se_scale
 *
 * Layout: x, y [N,C,H,W]; W1 [HID,C], b1 [HID], W2 [C,HID], b2 [C]. p, h and s live in the
 * caller's workspace ws at float offsets from the host. The host launches the four steps in this
 * order on one stream (the launches are the grid-wide synchronisation).
 * Grids:
 *   se_pool   N*C blocks of SE_WG, one per plane; se_dense N*OUT blocks of SE_WG, one per output:
 *             strided partial sums, then the .cl's halving tree in the same order (bit-identical),
 *             its last five steps as warp shuffles (ck_block_tree, common/cuda_compat.h).
 *   se_scale  (ceil(H*W / SE_SCALE_WG), N*C) blocks of (SE_SCALE_WG, 1): one scale per block,
 *             contiguous x and y.
 * Built with (the host launches with exactly these): SE_WG 64, SE_SCALE_WG 64.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more. NaN propagates.
 */
#include "common/cuda_compat.h"

#ifndef SE_WG
#define SE_WG 64
#endif
#ifndef SE_SCALE_WG
#define SE_SCALE_WG 64
#endif

/* Activation code of the second dense layer; 0 and 1 are the shared CK_ACT_* codes. */
#define SE_ACT_SIGMOID 2

extern "C" __global__ void __launch_bounds__(SE_WG)
se_pool(const float* __restrict__ x, float* __restrict__ ws, const int HW, const int P_OFF)
{
    __shared__ float part[SE_WG];
    const int plane = blockIdx.x;
    const int t = threadIdx.x;
    const float* xp = x + plane * HW;
    float acc = 0.0f;
    for (int i = t; i < HW; i += SE_WG) {
        acc += xp[i];
    }
    acc = ck_block_tree<SE_WG>(acc, part, ck_op_sum());
    if (t == 0) {
        ws[P_OFF + plane] = acc / (float) HW;
    }
}

/* ws is read (IN_OFF..) and written (OUT_OFF..) by the same launch, so it is not __restrict__. */
extern "C" __global__ void __launch_bounds__(SE_WG)
se_dense(float* ws, const float* __restrict__ w, const float* __restrict__ bias,
         const int IN, const int OUT, const int IN_OFF, const int OUT_OFF, const int ACT)
{
    __shared__ float part[SE_WG];
    const int g = blockIdx.x;
    const int n = g / OUT;
    const int o = g - n * OUT;
    const int t = threadIdx.x;
    const float* in = ws + IN_OFF + n * IN;
    const float* wr = w + o * IN;
    float acc = 0.0f;
    for (int k = t; k < IN; k += SE_WG) {
        acc = fmaf(wr[k], in[k], acc);
    }
    acc = ck_block_tree<SE_WG>(acc, part, ck_op_sum());
    if (t == 0) {
        const float v = acc + bias[o];
        ws[OUT_OFF + n * OUT + o] = (ACT == SE_ACT_SIGMOID) ? 1.0f / (1.0f + expf(-v)) : ck_activate(v, ACT);
    }
}

extern "C" __global__ void __launch_bounds__(SE_SCALE_WG)
se_scale(const float* __restrict__ x, const float* __restrict__ ws, float* __restrict__ y,
         const int HW, const int S_OFF)
{
    const int i = ck_global_id_x();
    const int plane = ck_global_id_y();
    if (i >= HW) {
        return;
    }
    const int at = plane * HW + i;
    y[at] = x[at] * ws[S_OFF + plane];
}
