package org.convkit.backend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One kernel launch as data, for both GPU backends: the kernel source ({@code <op>/<op>} under
 * {@code kernels/}, {@code .cl} for OpenCL, {@code .cu} for CUDA: the same entries and arguments),
 * the entry, OpenCL's global and local sizes (CUDA's grid is global / local, its block the local
 * size), and the arguments in the entry's parameter order. The gradient kernels are planned once
 * this way and launched by a generic host on each backend, so the two cannot drift apart. Kernels
 * are built with their sources' default macros (CUDA has no build options at run time).
 *
 * @param module the source, e.g. {@code conv2d_grad/conv2d_grad}
 * @param entry the entry name
 * @param global work-items per dimension (1 to 3), each a multiple of its local size
 * @param local work-group size per dimension
 * @param args the entry's arguments, in order
 */
public record Launch(String module, String entry, long[] global, long[] local, List<Arg> args) {
    /** A kernel argument. */
    public sealed interface Arg permits Input, Output, Workspace, None, I32, F32, I64, I32x8 {
    }

    /** Argument buffer {@code index} of {@link Kernel#run} (inputs, then parameters). */
    public record Input(int index) implements Arg {
    }

    /** The output buffer. */
    public record Output() implements Arg {
    }

    /** The workspace buffer. */
    public record Workspace() implements Arg {
    }

    /** A null buffer: an operand the case does not have. */
    public record None() implements Arg {
    }

    /** A 32-bit integer. */
    public record I32(int value) implements Arg {
    }

    /** A 32-bit float. */
    public record F32(float value) implements Arg {
    }

    /** A 64-bit integer. */
    public record I64(long value) implements Arg {
    }

    /** Eight 32-bit integers by value: OpenCL's {@code int8}. */
    public record I32x8(int[] values) implements Arg {
        public I32x8 {
            if (values.length != 8) {
                throw new IllegalArgumentException("an int8 argument has 8 components, got " + values.length);
            }
            values = values.clone();
        }

        @Override
        public int[] values() {
            return values.clone();
        }
    }

    public Launch {
        global = global.clone();
        local = local.clone();
        args = List.copyOf(args);
        if (global.length != local.length || global.length < 1 || global.length > 3) {
            throw new IllegalArgumentException(entry + ": global " + Arrays.toString(global) + " and local "
                    + Arrays.toString(local) + " must have the same 1 to 3 dimensions");
        }
        for (int i = 0; i < global.length; i++) {
            if (local[i] < 1 || global[i] < local[i] || global[i] % local[i] != 0) {
                throw new IllegalArgumentException(entry + ": global size " + global[i] + " is not a positive multiple of "
                        + "local size " + local[i] + " (dimension " + i + ")");
            }
        }
    }

    @Override
    public long[] global() {
        return global.clone();
    }

    @Override
    public long[] local() {
        return local.clone();
    }

    /** The OpenCL source, e.g. {@code conv2d_grad/conv2d_grad.cl}. */
    public String source() {
        return module + ".cl";
    }

    /** A builder for a 1-D launch of at least {@code items} work-items in groups of {@code group}. */
    public static Builder flat(String module, String entry, long items, long group) {
        long global = Math.max(1, (items + group - 1) / group) * group;
        return new Builder(module, entry, new long[] {global}, new long[] {group});
    }

    /** A builder with explicit sizes. */
    public static Builder of(String module, String entry, long[] global, long[] local) {
        return new Builder(module, entry, global, local);
    }

    /** Collects the arguments in parameter order. */
    public static final class Builder {
        private final String module;
        private final String entry;
        private final long[] global;
        private final long[] local;
        private final List<Arg> args = new ArrayList<>();

        private Builder(String module, String entry, long[] global, long[] local) {
            this.module = module;
            this.entry = entry;
            this.global = global.clone();
            this.local = local.clone();
        }

        /** Argument buffer {@code index}. */
        public Builder input(int index) {
            args.add(new Input(index));
            return this;
        }

        /** Argument buffer {@code index} when {@code present}, else a null buffer. */
        public Builder inputOrNone(boolean present, int index) {
            args.add(present ? new Input(index) : new None());
            return this;
        }

        public Builder output() {
            args.add(new Output());
            return this;
        }

        public Builder workspace() {
            args.add(new Workspace());
            return this;
        }

        public Builder none() {
            args.add(new None());
            return this;
        }

        /** 32-bit integers, in order. */
        public Builder ints(int... values) {
            for (int v : values) {
                args.add(new I32(v));
            }
            return this;
        }

        public Builder f32(float value) {
            args.add(new F32(value));
            return this;
        }

        /** 64-bit integers, in order. */
        public Builder longs(long... values) {
            for (long v : values) {
                args.add(new I64(v));
            }
            return this;
        }

        public Builder int8(int[] values) {
            args.add(new I32x8(values));
            return this;
        }

        public Launch build() {
            return new Launch(module, entry, global, local, args);
        }
    }
}
