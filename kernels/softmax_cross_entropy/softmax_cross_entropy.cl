/*
 * softmax_cross_entropy: the training loss of a classifier and its gradient, float32.
 *
 *   softmax_cross_entropy_fwd: out[r]        = log(sum_k exp(x[r,k] - m)) - (x[r,label] - m),  m = max_k x[r,k]
 *                              out[rows + r] = 1 if label is the first k of largest x[r,k], else 0
 *   softmax_cross_entropy_bwd: dx[r,k]       = (exp(x[r,k] - m) / sum - [k == label]) * scale
 *
 * Layout: the logits x (and dx) viewed as [outer, K, inner], classes on axis 1; position
 * r = o * inner + i reads x[(o*K + k)*inner + i], k < K, and its label labels[r], a class index
 * stored as a float (org.convkit.ops.SoftmaxCrossEntropy). out is [2, rows]: the losses, then the
 * right/wrong flags, so that the host downloads 2 * rows floats instead of the logits. scale is
 * 1 / rows rounded to float by the host (the gradient of the mean loss).
 * Subtracting the row's max bounds every exp by 1: large logits do not overflow, and the loss
 * keeps the small probabilities' precision (log of the sum rather than of a quotient).
 * A label that is not an integer in [0, K) gives a NaN loss and a NaN gradient row; a NaN logit
 * makes its row's loss and gradient NaN (it enters the sum).
 * Grid: 1-D, roundup(rows, SCE_WG), one work-item per position. Neighbouring work-items read
 * neighbouring floats when inner > 1 (per-pixel labels); a classifier's rows are short (K of ten
 * to a thousand) and few, so there is little to share in a work-group anyway.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef SCE_WG
#define SCE_WG 64
#endif

/* The class a label names, or -1 when it is not an integer in [0, K) (NaN fails every test). */
CK_FUNC int sce_class(const float label, const int K)
{
    return (label >= 0.0f && label < (float) K && label == floor(label)) ? (int) label : -1;
}

__attribute__((reqd_work_group_size(SCE_WG, 1, 1)))
__kernel void softmax_cross_entropy_fwd(__global const float* restrict x,
                                        __global const float* restrict labels,
                                        __global float* restrict out,
                                        const int rows, const int K, const int inner)
{
    const int r = get_global_id(0);
    if (r >= rows) {
        return;
    }
    const int o = r / inner;
    const int base = o * K * inner + (r - o * inner);
    const int label = sce_class(labels[r], K);
    float m = x[base];
    int best = 0;
    for (int k = 1; k < K; ++k) {
        const float v = x[base + k * inner];
        if (v > m) {
            m = v;
            best = k;
        }
    }
    float sum = 0.0f;
    for (int k = 0; k < K; ++k) {
        sum += exp(x[base + k * inner] - m);
    }
    const float loss = label < 0 ? NAN : log(sum) - (x[base + label * inner] - m);
    out[r] = loss;
    out[rows + r] = (label == best && loss == loss) ? 1.0f : 0.0f;
}

__attribute__((reqd_work_group_size(SCE_WG, 1, 1)))
__kernel void softmax_cross_entropy_bwd(__global const float* restrict x,
                                        __global const float* restrict labels,
                                        __global float* restrict dx,
                                        const int rows, const int K, const int inner,
                                        const float scale)
{
    const int r = get_global_id(0);
    if (r >= rows) {
        return;
    }
    const int o = r / inner;
    const int base = o * K * inner + (r - o * inner);
    const int label = sce_class(labels[r], K);
    float m = x[base];
    for (int k = 1; k < K; ++k) {
        m = fmax(m, x[base + k * inner]);
    }
    float sum = 0.0f;
    for (int k = 0; k < K; ++k) {
        sum += exp(x[base + k * inner] - m);
    }
    for (int k = 0; k < K; ++k) {
        const float p = exp(x[base + k * inner] - m) / sum;
        dx[base + k * inner] = label < 0 ? NAN : (k == label ? p - 1.0f : p) * scale;
    }
}
