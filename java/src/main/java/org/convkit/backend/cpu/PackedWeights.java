package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;

import org.convkit.backend.DeviceBuffer;

/**
 * A kernel's weights rearranged for its micro-kernel, kept across runs. Weights arrive as a
 * buffer at every run, but change rarely (a session uploads them once), so they are packed at
 * the first run and again only when the run gets another buffer or the same buffer has been
 * written since ({@link DeviceBuffer#writeVersion()} moved: an upload, a kernel that wrote it,
 * a write through its parent or another view of the same memory). Packing on every run would
 * cost, measured on one Zen 5 core (best of 40): 0.15 ms (spatial layout) or 0.81 ms (channel
 * layout, a transposition) for a 3x3 256 -> 256 layer, whose convolution takes about 0.6 ms on
 * two cores; 0.13 ms for a 1x1 728 -> 728 layer (about 1.2 ms); 0.24 ms for the seed network's
 * conv3 (about 4.5 ms). Comparing the contents instead of a version would read the weights
 * twice per run. Runs of one kernel are serialised by its host, so no locking here.
 */
final class PackedWeights {
    /** Rearranges the weights of {@code src} into {@code dst}. */
    @FunctionalInterface
    interface Packer {
        void pack(MemorySegment src, float[] dst);
    }

    private final float[] packed;
    private final Packer packer;
    private DeviceBuffer source;
    private long version;
    private int packs;

    PackedWeights(int length, Packer packer) {
        this.packed = new float[length];
        this.packer = packer;
    }

    /** The packed form of {@code weights}, packed now if the copy held is not of this buffer's current contents. */
    float[] of(DeviceBuffer weights) {
        long v = weights.writeVersion();
        if (weights != source || v != version) {
            packer.pack(CpuDevice.segment(weights), packed);
            source = weights;
            version = v;
            packs++;
        }
        return packed;
    }

    /** How many times the weights were packed (tests check that a rewritten buffer is packed again). */
    int packs() {
        return packs;
    }
}
