package org.convkit.backend.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

import jcuda.Pointer;

import org.convkit.backend.DeviceBuffer;

/**
 * One kernel launch as data: the PTX module and entry, the grid and block, and the arguments in
 * the kernel's parameter order.
 *
 * <p>The contract with {@code kernels/<op>/<op>.cu}: each CUDA kernel has the entry name and the
 * parameters of its OpenCL twin in {@code <op>.cl}, in the same order, and is built with the
 * .cl's default macro values. A launch's block is the OpenCL local size and its grid the global
 * size divided by it, so {@code blockIdx * blockDim + threadIdx} is OpenCL's global id; each
 * {@code Cuda<Op>} describes exactly the launches its {@code Cl<Op>} makes (the tests run these
 * descriptions through the OpenCL kernels and compare). Buffers are device pointers, absent
 * optional buffers null; an OpenCL {@code int8} / {@code uint8} is 8 consecutive 32-bit integers
 * passed by value.
 *
 * <p>Most kernels are built once, with their sources' default macros. A kernel whose host picks
 * among tuned values per shape (conv2d's tile shapes) ships a PTX module per value set besides the
 * defaults, each asked for by a {@code ptx-variant:} line in its .cu; {@code defines} names the
 * macros of the launch's module that differ from the defaults, and {@link #ptxModule()} the module.
 *
 * @param module the kernel source, {@code <op>/<op>} under {@code kernels/} (the .cl and the .cu)
 * @param defines the macros the launch's module is built with where they differ from the source's
 *     defaults (empty for the defaults' module), sorted by name
 * @param entry the kernel's entry name
 * @param label what error messages call this launch, before the case (usually the entry)
 * @param grid blocks along x, y, z
 * @param block threads along x, y, z
 * @param args the kernel's parameters, in order
 */
record CudaLaunch(String module, SortedMap<String, Integer> defines, String entry, String label, long[] grid,
        int[] block, List<Arg> args) {
    /** A kernel parameter. */
    sealed interface Arg permits Input, Output, Workspace, None, I32, F32, I64, I32x8 {
    }

    /** Buffer {@code index} of the arguments {@link org.convkit.backend.Kernel#run} takes (inputs, then parameters). */
    record Input(int index) implements Arg {
    }

    /** The output buffer. */
    record Output() implements Arg {
    }

    /** The workspace buffer. */
    record Workspace() implements Arg {
    }

    /** A null device pointer: an optional buffer the op does not have (a bias). */
    record None() implements Arg {
    }

    /** A 32-bit integer. */
    record I32(int value) implements Arg {
    }

    /** A 32-bit float. */
    record F32(float value) implements Arg {
    }

    /** A 64-bit integer. */
    record I64(long value) implements Arg {
    }

    /** Eight 32-bit integers by value: OpenCL's {@code int8} or {@code uint8}. */
    record I32x8(int[] values) implements Arg {
        I32x8 {
            if (values.length != 8) {
                throw new IllegalArgumentException("an int8 argument has 8 components, got " + values.length);
            }
            values = values.clone();
        }
    }

    CudaLaunch {
        defines = Collections.unmodifiableSortedMap(new TreeMap<>(defines));
        args = List.copyOf(args);
    }

    /**
     * The PTX module this launch loads: {@code module} for the defaults, else
     * {@link #variantModule}'s name for {@code defines}.
     */
    String ptxModule() {
        return variantModule(module, defines);
    }

    /**
     * The PTX module of {@code module} built with {@code defines} (non-default macros), named as
     * {@code kernels/build-ptx.sh} names it: the macros in sorted order, each without the
     * {@code <OP>_} prefix (OP the source's file name), lower case, followed by its value, joined by
     * {@code _}, after a dot: {@code conv2d/conv2d} with {@code CONV2D_TOH=4, CONV2D_TOW=32} is
     * {@code conv2d/conv2d.toh4_tow32}.
     */
    static String variantModule(String module, Map<String, Integer> defines) {
        if (defines.isEmpty()) {
            return module;
        }
        String prefix = module.substring(module.lastIndexOf('/') + 1).toUpperCase(Locale.ROOT) + "_";
        List<String> parts = new ArrayList<>();
        for (Map.Entry<String, Integer> e : new TreeMap<>(defines).entrySet()) {
            String name = e.getKey().startsWith(prefix) ? e.getKey().substring(prefix.length()) : e.getKey();
            parts.add(name.toLowerCase(Locale.ROOT) + e.getValue());
        }
        return module + "." + String.join("_", parts);
    }

    /**
     * Starts a launch from the OpenCL twin's sizes: {@code global} and {@code local} of up to three
     * dimensions, each global size a multiple of its local size.
     */
    static Builder of(String module, String entry, long[] global, long[] local) {
        return new Builder(module, entry, global, local);
    }

    /** Grid and block for messages, e.g. {@code grid 4x25x400, block 16x4x1}. */
    String sizes() {
        return "grid " + grid[0] + "x" + grid[1] + "x" + grid[2] + ", block " + block[0] + "x" + block[1] + "x"
                + block[2];
    }

    /** Threads per block. */
    long threadsPerBlock() {
        return (long) block[0] * block[1] * block[2];
    }

    /** The {@code kernelParams} of cuLaunchKernel: one pointer per parameter, to its value. */
    Pointer parameters(List<DeviceBuffer> inputs, DeviceBuffer output, DeviceBuffer workspace) {
        Pointer[] p = new Pointer[args.size()];
        for (int i = 0; i < p.length; i++) {
            p[i] = switch (args.get(i)) {
                case Input in -> Pointer.to(CudaDevice.pointer(inputs.get(in.index())));
                case Output o -> Pointer.to(CudaDevice.pointer(output));
                case Workspace w -> Pointer.to(CudaDevice.pointer(workspace));
                case None n -> Pointer.to(new long[] {0});
                case I32 v -> Pointer.to(new int[] {v.value()});
                case F32 v -> Pointer.to(new float[] {v.value()});
                case I64 v -> Pointer.to(new long[] {v.value()});
                case I32x8 v -> Pointer.to(v.values());
            };
        }
        return Pointer.to(p);
    }

    /** Collects the arguments of one launch in parameter order. */
    static final class Builder {
        private final String module;
        private final String entry;
        private final long[] grid = {1, 1, 1};
        private final int[] block = {1, 1, 1};
        private final List<Arg> args = new ArrayList<>();
        private final SortedMap<String, Integer> defines = new TreeMap<>();
        private String label;

        private Builder(String module, String entry, long[] global, long[] local) {
            if (global.length != local.length || global.length < 1 || global.length > 3) {
                throw new IllegalArgumentException(entry + ": global " + Arrays.toString(global) + " and local "
                        + Arrays.toString(local) + " must have the same 1 to 3 dimensions");
            }
            for (int i = 0; i < global.length; i++) {
                if (local[i] < 1 || local[i] > Integer.MAX_VALUE || global[i] % local[i] != 0) {
                    throw new IllegalArgumentException(entry + ": global size " + global[i] + " is not a multiple of "
                            + "local size " + local[i] + " (dimension " + i + ")");
                }
                grid[i] = global[i] / local[i];
                block[i] = (int) local[i];
            }
            this.module = module;
            this.entry = entry;
            this.label = entry;
        }

        /** Argument buffer {@code index}. */
        Builder input(int index) {
            args.add(new Input(index));
            return this;
        }

        /** Argument buffer {@code index} when {@code present}, else a null pointer. */
        Builder inputOrNone(boolean present, int index) {
            args.add(present ? new Input(index) : new None());
            return this;
        }

        Builder output() {
            args.add(new Output());
            return this;
        }

        Builder workspace() {
            args.add(new Workspace());
            return this;
        }

        /** 32-bit integers, in order. */
        Builder ints(int... values) {
            for (int v : values) {
                args.add(new I32(v));
            }
            return this;
        }

        Builder f32(float value) {
            args.add(new F32(value));
            return this;
        }

        /** 64-bit integers, in order. */
        Builder longs(long... values) {
            for (long v : values) {
                args.add(new I64(v));
            }
            return this;
        }

        Builder int8(int[] values) {
            args.add(new I32x8(values));
            return this;
        }

        /** The module's macros that differ from the source's defaults (see {@link CudaLaunch#ptxModule()}). */
        Builder defines(Map<String, Integer> macros) {
            defines.putAll(macros);
            return this;
        }

        /** What error messages call the launch (default: the entry). */
        Builder label(String text) {
            this.label = text;
            return this;
        }

        CudaLaunch build() {
            return new CudaLaunch(module, defines, entry, label, grid.clone(), block.clone(), args);
        }
    }
}
