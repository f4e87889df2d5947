/*
 * convkit CUDA compatibility header: the launch contract between every kernels/<op>/<op>.cu and its
 * host, and the few CUDA-only helpers the .cu twins share. CUDA C++ only; the language-neutral
 * helpers (activations, NaN-propagating max) stay in common/convkit.h, which this includes.
 *
 * Entries. Each .cu has the entry names of its .cl twin, `extern "C" __global__` so that the PTX
 * names are the plain names, with the same arguments in the same order and of the same types:
 *   OpenCL __global T*        CUDA T* (or const T* __restrict__)   PTX .param .u64
 *   OpenCL int, float, long   CUDA int, float, long long           PTX .u32, .f32, .u64
 *   OpenCL int8, uint8        CUDA ck_int8, ck_uint8 (below)       PTX .align 32 .b8 [32]
 * An absent buffer (a bias) is a NULL pointer (0), as the OpenCL host passes NULL.
 *
 * Grid mapping. A host that launches the .cl with global size G and local size L launches the .cu
 * with blockDim = L and gridDim = G / L in each dimension (the .cl globals are multiples of the
 * locals), so that in every kernel
 *   get_global_id(d)   = blockIdx.d * blockDim.d + threadIdx.d     (ck_global_id_x/y/z below)
 *   get_local_id(d)    = threadIdx.d
 *   get_group_id(d)    = blockIdx.d
 *   get_global_size(d) = gridDim.d * blockDim.d                    (ck_global_size_x below)
 * with OpenCL dimensions 0, 1, 2 as CUDA's x, y, z. No dynamic shared memory (every tile is
 * static) and the default stream order (the launches of one op, e.g. SE's four, follow each other
 * on one stream, as on OpenCL's in-order queue).
 * CUDA limits gridDim.y and gridDim.z to 65535 (gridDim.x to 2^31 - 1), where OpenCL has no such
 * limit: conv2d's N*OC and pooling's N*C planes in z, batchnorm's and se_scale's planes, PReLU's,
 * eltwise's and concat's rows in y can exceed it (batch 64 x 2048 channels). The kernels take no
 * block offset, so a host either splits such a launch into several whose buffers it offsets (where
 * the index math allows: whole planes of pooling, whole images of conv2d, whole multiples of C
 * for batchnorm) or refuses it, naming the op, the dimension and the count.
 *
 * PTX. nvcc 13 emits PTX ISA 9.0, which the driver compiles for its GPU when the host loads it
 * (cuModuleLoadData): that needs a driver of CUDA 13.0 or newer (R580 and later), and a GPU of
 * compute capability 8.0 or more for compute_80, 9.0 or more for compute_90.
 *
 * Tunables. PTX is built at build time by kernels/build-ptx.sh, with each .cu's macro defaults
 * (the same names and defaults as the .cl twin, listed in each .cu's header), and once more per
 * `ptx-variant:` line of a .cu (conv2d's tile shapes), as a module of its own. A CUDA host must
 * launch with exactly the block sizes of the module it loads: there is no -D at run time, and most
 * kernels size their shared memory and their __launch_bounds__ from them.
 *
 * Floating point. nvcc's defaults (IEEE division and square root, denormals kept, --fmad=true):
 * where a .cl writes fma the .cu writes fmaf; where it writes a * b + c both compilers may
 * contract it (OpenCL's FP_CONTRACT is on by default). Reductions keep the .cl's order of
 * operations (the same pairs in the same tree), so results match the OpenCL tree bit for bit
 * wherever the two devices' exp, division and square root round alike.
 */
#ifndef CONVKIT_CUDA_COMPAT_H
#define CONVKIT_CUDA_COMPAT_H

#if !defined(__CUDACC__)
#error "common/cuda_compat.h is CUDA C++ only; OpenCL kernels include common/convkit.h alone"
#endif

#include "common/convkit.h"

/* Lanes of a warp: the width of the shuffle steps of the reductions. */
#define CK_WARP 32
/* Every lane of a warp takes part in the shuffles. */
#define CK_FULL_MASK 0xffffffffu

/* OpenCL's int8: eight ints, 32 bytes, 32-byte aligned, components s0..s7 (s7 innermost in eltwise). */
struct __align__(32) ck_int8 {
    int s0, s1, s2, s3, s4, s5, s6, s7;
};

/* OpenCL's uint8, laid out as ck_int8. */
struct __align__(32) ck_uint8 {
    unsigned int s0, s1, s2, s3, s4, s5, s6, s7;
};

/* get_global_id(0), (1), (2) under the grid mapping above, as the int the .cl kernels use. */
CK_FUNC int ck_global_id_x()
{
    return (int) (blockIdx.x * blockDim.x + threadIdx.x);
}

CK_FUNC int ck_global_id_y()
{
    return (int) (blockIdx.y * blockDim.y + threadIdx.y);
}

CK_FUNC int ck_global_id_z()
{
    return (int) (blockIdx.z * blockDim.z + threadIdx.z);
}

/* get_global_size(0): the stride of a grid-stride loop. */
CK_FUNC int ck_global_size_x()
{
    return (int) (gridDim.x * blockDim.x);
}

/* The combining operations of the tree reductions, in the .cl's operand order (a is the lower
   index's running value): ck_max_nan is not symmetric in -0 / +0, nor fmaxf in NaN payloads. */
struct ck_op_sum {
    __device__ __forceinline__ float operator()(float a, float b) const { return a + b; }
};

/* OpenCL's fmax: a NaN operand is dropped. */
struct ck_op_fmax {
    __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

/* NaN-propagating maximum (common/convkit.h). */
struct ck_op_max_nan {
    __device__ __forceinline__ float operator()(float a, float b) const { return ck_max_nan(a, b); }
};

/*
 * The halving tree reduction of the .cl kernels (`if (t < step) part[t] = op(part[t],
 * part[t + step])`, step = WG/2 down to 1, a barrier after each step) over the WG threads of a
 * 1-D block, giving the same pairs in the same order, hence the same bits: the steps of 64 and
 * more through shared memory `part` (WG floats), the step of 32 as warp 0 loads its pairs, and
 * the last five within warp 0 by shuffles, with no barrier. log2(WG) - 5 barriers instead of
 * log2(WG) + 1. Every thread must call it, with its own value v; the total is returned to
 * thread 0 (other threads get partial values). A caller that reuses `part` afterwards needs a
 * __syncthreads first.
 */
template <int WG, class Op>
__device__ __forceinline__ float ck_block_tree(float v, float* part, Op op)
{
    static_assert(WG >= 2 * CK_WARP && (WG & (WG - 1)) == 0,
                  "ck_block_tree: the block must be a power of two of at least two warps");
    const int t = threadIdx.x;
    part[t] = v;
    __syncthreads();
#pragma unroll
    for (int step = WG / 2; step > CK_WARP; step >>= 1) {
        if (t < step) {
            part[t] = op(part[t], part[t + step]);
        }
        __syncthreads();
    }
    if (t < CK_WARP) {
        v = op(part[t], part[t + CK_WARP]);
    }
    /* Warp-uniform from here: warps other than 0 shuffle values nobody reads. */
#pragma unroll
    for (int step = CK_WARP / 2; step > 0; step >>= 1) {
        v = op(v, __shfl_down_sync(CK_FULL_MASK, v, step));
    }
    return v;
}

#endif /* CONVKIT_CUDA_COMPAT_H */
