package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;

import org.convkit.backend.DeviceBuffer;

/**
 * A kernel's weights rearranged for its micro-kernel, kept across runs. Weights arrive as a
 * buffer at every run, but change rarely (a session uploads them once), so they are packed at
 * the first run and again only when the run gets another buffer or the same buffer has been
 * written since ({@link DeviceBuffer#writeVersion()} moved: an upload, or a kernel that wrote
 * it). Packing on every run instead would cost, for a 1x1 or a 14x14 layer, a tenth of the
 * convolution itself. Runs of one kernel are serialised by its host, so no locking here.
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
