/**
 * The ops a trainer runs besides the model's forward and backward passes: optimizer updates
 * ({@link org.convkit.ops.train.SgdUpdate}, {@link org.convkit.ops.train.AdamUpdate}), which
 * change a parameter and its state in place, and {@link org.convkit.ops.train.Accumulate}, which
 * adds a partial gradient into a tensor's gradient when the tensor feeds several layers. Devices
 * prepare and run them like any op; the kernels live in {@code kernels/optimizer/} and
 * {@code kernels/accumulate/}.
 */
package org.convkit.ops.train;
