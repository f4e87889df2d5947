/*
 * accumulate: y[i] += x[i], float32, flat, in place.
 *
 * How a trainer sums the gradient of a tensor that feeds several layers: x is one layer's partial
 * gradient, y the tensor's gradient so far (org.convkit.ops.train.Accumulate). Each work-item
 * reads and writes its own element only.
 * Grid: 1-D, roundup(count, ACCUMULATE_WG), one work-item per element (coalesced).
 * Indices are 32-bit: the host refuses tensors of 2^31 elements or more.
 */
#ifndef ACCUMULATE_WG
#define ACCUMULATE_WG 256
#endif

__attribute__((reqd_work_group_size(ACCUMULATE_WG, 1, 1)))
__kernel void accumulate(__global const float* restrict x,
                         __global float* restrict y,
                         const int count)
{
    const int i = get_global_id(0);
    if (i >= count) {
        return;
    }
    y[i] += x[i];
}
