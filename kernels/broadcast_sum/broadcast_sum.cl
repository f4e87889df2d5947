/*
 * broadcast_sum: a gradient summed over the dimensions its tensor was broadcast along (biases,
 * the operands of broadcasting add / mul, PReLU slopes, batchnorm's shift), float32;
 * org.convkit.ops.grad.BroadcastSum:
 *
 *   out[j] = scale * sum_r  m * dy[o(j, r)] * f(j, r),   m = mask[o] > 0 (1 without a mask),
 *            f = factor[p(j, r)] (1 without a factor; min(factor, 0) when NEG)
 *
 * Layout: the host collapses dy's dimensions into those the target keeps (NK of them, sizes KD,
 * dy strides KO, factor strides KF; innermost in s0) and those summed over (NR: RD, RO, RF).
 * Target element j's digits in the kept dimensions give its dy and factor offsets; sum index r's
 * digits in the summed dimensions add theirs. mask has dy's layout.
 *
 * Entries (same arguments):
 *   broadcast_sum_items:  one work-item per target element, r summed in order: for short sums
 *                         (REDUCE below the host's threshold), 1-D grid roundup(COUNT, WG).
 *   broadcast_sum_groups: one work-group per target element: each work-item sums every
 *                         BROADCAST_SUM_WG-th term in order, then a fixed halving tree in local
 *                         memory; grid COUNT * WG. Error <= (REDUCE / WG + log2 WG) unit
 *                         roundoffs times the sum of |terms|.
 * Both are deterministic (a fixed order, no atomics). Indices are 32-bit: the host refuses
 * tensors of 2^31 elements or more.
 */
#include "common/convkit.h"

#ifndef BROADCAST_SUM_WG
#define BROADCAST_SUM_WG 256
#endif

/* Term r of target element j, whose offsets in dy and the factor are od, of. */
inline float broadcast_sum_term(__global const float* restrict dy, __global const float* restrict mask,
                                __global const float* restrict factor, int r, int od, int of,
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

/* The dy and factor offsets of target element j. */
inline void broadcast_sum_base(int j, const int nk, const int* kd, const int* ko, const int* kf, int* od, int* of)
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

__attribute__((reqd_work_group_size(BROADCAST_SUM_WG, 1, 1)))
__kernel void broadcast_sum_items(__global const float* restrict dy,
                                  __global const float* restrict mask,
                                  __global const float* restrict factor,
                                  __global float* restrict out,
                                  const int COUNT, const int REDUCE,
                                  const int NK, const int8 KD, const int8 KO, const int8 KF,
                                  const int NR, const int8 RD, const int8 RO, const int8 RF,
                                  const int NEG, const float SCALE)
{
    const int j = get_global_id(0);
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

__attribute__((reqd_work_group_size(BROADCAST_SUM_WG, 1, 1)))
__kernel void broadcast_sum_groups(__global const float* restrict dy,
                                   __global const float* restrict mask,
                                   __global const float* restrict factor,
                                   __global float* restrict out,
                                   const int COUNT, const int REDUCE,
                                   const int NK, const int8 KD, const int8 KO, const int8 KF,
                                   const int NR, const int8 RD, const int8 RO, const int8 RF,
                                   const int NEG, const float SCALE)
{
    __local float part[BROADCAST_SUM_WG];
    const int j = get_group_id(0);
    const int lid = get_local_id(0);
    BROADCAST_SUM_ARRAYS
    int od;
    int of;
    broadcast_sum_base(j, NK, kd, ko, kf, &od, &of);
    float acc = 0.0f;
    for (int r = lid; r < REDUCE; r += BROADCAST_SUM_WG) {
        acc += broadcast_sum_term(dy, mask, factor, r, od, of, NR, rd, ro, rf, NEG);
    }
    part[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int step = BROADCAST_SUM_WG / 2; step > 0; step >>= 1) {
        if (lid < step) {
            part[lid] += part[lid + step];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0 && j < COUNT) {
        out[j] = SCALE * part[0];
    }
}
