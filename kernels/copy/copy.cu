/*
 * copy: device-to-device copy of float32 elements, dst[i] = src[i] for i < COUNT; the CUDA twin
 * of copy.cl (same entry, arguments and grid; see common/cuda_compat.h for the launch contract).
 *
 * Used by flatten and reshape, whose output is the input's bytes in the same order. Grid: one
 * dimension of at most a few thousand blocks of COPY_WG threads; thread t copies elements t,
 * t + S, t + 2S, ... (S = the grid's thread count): every pass of a warp is one coalesced
 * 128-byte transaction.
 * Built with (the host launches with exactly these): COPY_WG 256.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef COPY_WG
#define COPY_WG 256
#endif

extern "C" __global__ void __launch_bounds__(COPY_WG)
copy_f32(const float* __restrict__ src, float* __restrict__ dst, const int COUNT)
{
    const int stride = ck_global_size_x();
    for (int i = ck_global_id_x(); i < COUNT; i += stride) {
        dst[i] = src[i];
    }
}
