/**
 * What device backends that run the same kernel sources share (not exported): how a kernel's
 * entry, build macros and launch sizes are chosen for an op's shapes, and the per-device tuning
 * data behind the choice, so that the OpenCL and CUDA hosts of a kernel cannot drift apart.
 */
package org.convkit.backend.plan;
