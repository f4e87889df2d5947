/*
 * copy: device-to-device copy of float32 elements, dst[i] = src[i] for i < COUNT.
 *
 * Used by the ops that only relabel dimensions (flatten, reshape): their output is the input's
 * bytes in the same order, but ops never alias buffers, so the data is copied.
 * Grid: one dimension, a multiple of COPY_WG that the host caps (a few thousand work-groups are
 * plenty); work-item t copies elements t, t + S, t + 2S, ... (S = the global size), so that
 * neighbouring work-items touch neighbouring elements on every pass (coalesced on GPUs,
 * vectorisable across work-items on CPUs).
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */

#ifndef COPY_WG
#define COPY_WG 256
#endif

__attribute__((reqd_work_group_size(COPY_WG, 1, 1)))
__kernel void copy_f32(__global const float* restrict src,
                       __global float* restrict dst,
                       const int COUNT)
{
    const int stride = get_global_size(0);
    for (int i = get_global_id(0); i < COUNT; i += stride) {
        dst[i] = src[i];
    }
}
