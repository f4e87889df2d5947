/*
 * convkit common kernel header: what every kernel shares, written so that the simple kernels
 * compile both as OpenCL C 1.2 and as CUDA C++ (each .cl has a .cu twin with the same entry
 * names and argument order).
 *
 * - CK_FUNC marks a device helper function in either language.
 * - Activation codes match org.convkit.ops.Activation#code().
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

#endif /* CONVKIT_COMMON_H */
