/*
 * broadcast_sum: a gradient summed over the dimensions its tensor was broadcast along, float32;
 * the CUDA twin of broadcast_sum.cl (same entries, arguments, grids and results; see
 * common/cuda_compat.h):
 *
 *   out[j] = scale * sum_r  m * dy[o(j, r)] * f(j, r)
 *
 * with the kept / summed dimensions of the host's collapsed layout in the ck_int8s KD, KO, KF and
 * RD, RO, RF (innermost in s0). broadcast_sum_items: a thread per target element, the terms in
 * order; broadcast_sum_groups: a block per target element, every BROADCAST_SUM_WG-th term per
 * thread in order, then the .cl's halving tree (ck_block_tree): the same pairs, the same bits.
 * Built with (the host launches with exactly these): BROADCAST_SUM_WG 256.
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#include "common/cuda_compat.h"

#ifndef BROADCAST_SUM_WG
#define BROADCAST_SUM_WG 256
#endif

CK_FUNC float broadcast_sum_term(const float* __restrict__ dy, const float* __restrict__ mask,
                                 const float* __restrict__ factor, int r, int od, int of,
                                 const int nr, const int* rd, const int* ro, const int* rf, const int neg)
{
    int rest = r;
    for (int k = 0; k < nr; ++k) {
        const int digit = rest % rd[k];
        rest /= rd[k];
        od += digit * ro[k];
        of += digit * rf[k];
    }
    float v = dy[od];
    if (mask != 0 && !(mask[od] > 0.0f)) {
        v = 0.0f;
    }
    if (factor != 0) {
        float f = factor[of];
        if (neg && !(f < 0.0f) && f == f) {
            f = 0.0f;
        }
        v *= f;
    }
    return v;
}

CK_FUNC void broadcast_sum_base(int j, const int nk, const int* kd, const int* ko, const int* kf, int* od, int* of)
{
    int rest = j;
    int a = 0;
    int b = 0;
    for (int k = 0; k < nk; ++k) {
        const int digit = rest % kd[k];
        rest /= kd[k];
        a += digit * ko[k];
        b += digit * kf[k];
    }
    *od = a;
    *of = b;
}

#define BROADCAST_SUM_ARRAYS                                                                   \
    const int kd[8] = {KD.s0, KD.s1, KD.s2, KD.s3, KD.s4, KD.s5, KD.s6, KD.s7};               \
    const int ko[8] = {KO.s0, KO.s1, KO.s2, KO.s3, KO.s4, KO.s5, KO.s6, KO.s7};               \
    const int kf[8] = {KF.s0, KF.s1, KF.s2, KF.s3, KF.s4, KF.s5, KF.s6, KF.s7};               \
    const int rd[8] = {RD.s0, RD.s1, RD.s2, RD.s3, RD.s4, RD.s5, RD.s6, RD.s7};               \
    const int ro[8] = {RO.s0, RO.s1, RO.s2, RO.s3, RO.s4, RO.s5, RO.s6, RO.s7};               \
    const int rf[8] = {RF.s0, RF.s1, RF.s2, RF.s3, RF.s4, RF.s5, RF.s6, RF.s7};

extern "C" __global__ void __launch_bounds__(BROADCAST_SUM_WG)
broadcast_sum_items(const float* __restrict__ dy, const float* __restrict__ mask,
                    const float* __restrict__ factor, float* __restrict__ out,
                    const int COUNT, const int REDUCE,
                    const int NK, const ck_int8 KD, const ck_int8 KO, const ck_int8 KF,
                    const int NR, const ck_int8 RD, const ck_int8 RO, const ck_int8 RF,
                    const int NEG, const float SCALE)
{
    const int j = ck_global_id_x();
    if (j >= COUNT) {
        return;
    }
    BROADCAST_SUM_ARRAYS
    int od;
    int of;
    broadcast_sum_base(j, NK, kd, ko, kf, &od, &of);
    float acc = 0.0f;
    for (int r = 0; r < REDUCE; ++r) {
        acc += broadcast_sum_term(dy, mask, factor, r, od, of, NR, rd, ro, rf, NEG);
    }
    out[j] = SCALE * acc;
}

extern "C" __global__ void __launch_bounds__(BROADCAST_SUM_WG)
broadcast_sum_groups(const float* __restrict__ dy, const float* __restrict__ mask,
                     const float* __restrict__ factor, float* __restrict__ out,
                     const int COUNT, const int REDUCE,
                     const int NK, const ck_int8 KD, const ck_int8 KO, const ck_int8 KF,
                     const int NR, const ck_int8 RD, const ck_int8 RO, const ck_int8 RF,
                     const int NEG, const float SCALE)
{
    __shared__ float part[BROADCAST_SUM_WG];
    const int j = blockIdx.x;
    const int lid = threadIdx.x;
    BROADCAST_SUM_ARRAYS
    int od;
    int of;
    broadcast_sum_base(j, NK, kd, ko, kf, &od, &of);
    float acc = 0.0f;
    for (int r = lid; r < REDUCE; r += BROADCAST_SUM_WG) {
        acc += broadcast_sum_term(dy, mask, factor, r, od, of, NR, rd, ro, rf, NEG);
    }
    acc = ck_block_tree<BROADCAST_SUM_WG>(acc, part, ck_op_sum());
    if (lid == 0 && j < COUNT) {
        out[j] = SCALE * acc;
    }
}
