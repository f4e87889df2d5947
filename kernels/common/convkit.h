/*
 * convkit common kernel header: what every kernel shares, written so that the simple kernels
 * compile both as OpenCL C 1.2 and as CUDA C++ (each .cl has a .cu twin with the same entry
 * names and argument order).
 *
 * - CK_FUNC marks a device helper function in either language.
 * - Activation codes match org.convkit.ops.Activation#code() (fused) and
 *   org.convkit.ops.ActivationOp.Kind#code() (standalone).
 * - NaN propagates through every activation and through ck_max_nan, so that a NaN produced by a
 *   bug is never masked.
 */
#ifndef CONVKIT_COMMON_H
#define CONVKIT_COMMON_H

#if defined(__CUDACC__)
#define CK_FUNC __device__ __forceinline__
#else
#define CK_FUNC inline
#endif

#define CK_ACT_NONE 0
#define CK_ACT_RELU 1
/* Standalone activations (org.convkit.ops.ActivationOp.Kind#code()); RELU is shared with the fused set. */
#define CK_ACT_LEAKY_RELU 2
#define CK_ACT_SIGMOID 3
#define CK_ACT_TANH 4
#define CK_ACT_HARD_SIGMOID 5
#define CK_ACT_CLIP 6

/* Applies a fused activation; max written so that NaN stays NaN. */
CK_FUNC float ck_activate(float v, int act)
{
    return (act == CK_ACT_RELU && v < 0.0f) ? 0.0f : v;
}

/* The larger of a running maximum a and a value b, NaN-propagating: once either is NaN the
 * result stays NaN (fmax would drop it and hide a NaN produced upstream). */
CK_FUNC float ck_max_nan(float a, float b)
{
    return (b > a || b != b) ? b : a;
}

/*
 * Logistic sigmoid that never overflows: exp is only taken of -|v|, so e lies in (0, 1] and
 * 1 + e cannot reach infinity; sigmoid(v) = 1 / (1 + e) for v >= 0 and e / (1 + e) below.
 * Branch-free (one exp, then a select), so that work-items vectorise. NaN gives e = NaN.
 */
CK_FUNC float ck_sigmoid(float v)
{
    const float e = exp(-fabs(v));
    const float s = 1.0f / (1.0f + e);
    return v >= 0.0f ? s : e * s;
}

/*
 * The standalone activations by code, with the ONNX operators' semantics. alpha is LeakyRelu's
 * and HardSigmoid's alpha or Clip's min; beta is HardSigmoid's beta or Clip's max. Every
 * comparison is written so that it is false for NaN and the NaN passes through (fmin/fmax
 * would drop it).
 */
CK_FUNC float ck_activation(float v, int kind, float alpha, float beta)
{
    switch (kind) {
    case CK_ACT_RELU:
        return v < 0.0f ? 0.0f : v;
    case CK_ACT_LEAKY_RELU:
        return v < 0.0f ? alpha * v : v;
    case CK_ACT_SIGMOID:
        return ck_sigmoid(v);
    case CK_ACT_TANH:
        return tanh(v);
    case CK_ACT_HARD_SIGMOID: {
        const float t = alpha * v + beta;
        return t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
    }
    case CK_ACT_CLIP:
        return v < alpha ? alpha : (v > beta ? beta : v);
    default:
        return v;
    }
}

#endif /* CONVKIT_COMMON_H */
