/*
 * Device peak probes (clpeak-style), used by native-bench's harness.
 *
 * fma_peak: every work-item runs 8 independent float16 FMA chains for `iterations` rounds;
 *           FLOPs = global size x iterations x 8 x 16 lanes x 2. A CPU driver such as PoCL maps
 *           float16 to one 512-bit register, so 8 chains cover the FMA latency of two pipes; a
 *           GPU runs the lanes as scalars. (Scalar chains in a private array, or float4 chains,
 *           measured 10-41 GFLOP/s on PoCL here: the driver did not vectorise them.) The result
 *           is stored so nothing is elided.
 * copy:     y[i] = x[i] over float4s; bytes moved = 2 x buffer size (read and write).
 * empty:    does nothing; a launch plus clFinish measures the round trip.
 */
#define CHAIN(c) c = fma(c, m, b)

__kernel void fma_peak(__global float16* out, const int iterations, const float a)
{
    const float base = get_global_id(0) * 1e-7f;
    const float16 m = (float16)(a);
    const float16 b = (float16)(1e-7f);
    float16 c0 = (float16)(base), c1 = c0 + 1, c2 = c0 + 2, c3 = c0 + 3;
    float16 c4 = c0 + 4, c5 = c0 + 5, c6 = c0 + 6, c7 = c0 + 7;
    for (int i = 0; i < iterations; ++i) {
        CHAIN(c0); CHAIN(c1); CHAIN(c2); CHAIN(c3);
        CHAIN(c4); CHAIN(c5); CHAIN(c6); CHAIN(c7);
    }
    out[get_global_id(0)] = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7;
}

__kernel void copy(__global const float4* restrict x, __global float4* restrict y)
{
    const int i = get_global_id(0);
    y[i] = x[i];
}

__kernel void empty(__global float* unused)
{
}
