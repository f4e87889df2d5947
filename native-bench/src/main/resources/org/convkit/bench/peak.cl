/*
 * Device peak probes (clpeak-style), used by native-bench's harness.
 *
 * fma_peak: every work-item runs PEAK_CHAINS independent float4 FMA chains for `iterations`
 *           rounds, so the FMA units always have independent work; FLOPs = global size x
 *           iterations x PEAK_CHAINS x 4 lanes x 2. The result is stored so nothing is elided.
 * copy:     y[i] = x[i] over float4s; bytes moved = 2 x buffer size (read and write).
 * empty:    does nothing; a launch plus clFinish measures the round trip.
 */
#ifndef PEAK_CHAINS
#define PEAK_CHAINS 8
#endif

__kernel void fma_peak(__global float4* out, const int iterations, const float a)
{
    const int id = get_global_id(0);
    float4 c[PEAK_CHAINS];
    for (int k = 0; k < PEAK_CHAINS; ++k) {
        c[k] = (float4)(id * 1e-7f + k);
    }
    const float4 m = (float4)(a);
    const float4 b = (float4)(1e-7f);
    for (int i = 0; i < iterations; ++i) {
        for (int k = 0; k < PEAK_CHAINS; ++k) {
            c[k] = fma(c[k], m, b);
        }
    }
    float4 s = c[0];
    for (int k = 1; k < PEAK_CHAINS; ++k) {
        s += c[k];
    }
    out[id] = s;
}

__kernel void copy(__global const float4* restrict x, __global float4* restrict y)
{
    const int i = get_global_id(0);
    y[i] = x[i];
}

__kernel void empty(__global float* unused)
{
}
