package org.convkit.backend.opencl;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;

import org.jocl.NativePointerObject;

/**
 * The calls made on every launch, as Panama downcalls into the OpenCL ICD loader that JOCL uses
 * too ({@code libOpenCL.so.1}): {@code clSetKernelArg}, {@code clEnqueueNDRangeKernel} and
 * {@code clFinish}. JOCL's JNI wrappers cost 8-10 us per enqueue on this machine (measured with
 * raw JOCL calls), several times the C API's own cost; the downcalls take the handles JOCL
 * created (its {@code nativePointer}) and pass them straight through.
 *
 * <p>When the loader or JOCL's handle field cannot be reached, {@link #AVAILABLE} is false and
 * ClDevice keeps using JOCL for these calls too.
 */
final class ClNative {
    private static final ValueLayout.OfLong SIZE_T = ValueLayout.JAVA_LONG;
    static final boolean AVAILABLE;
    private static final MethodHandle SET_ARG;
    private static final MethodHandle ENQUEUE;
    private static final MethodHandle FINISH;
    private static final Field POINTER;

    static {
        MethodHandle set = null;
        MethodHandle enq = null;
        MethodHandle fin = null;
        Field ptr = null;
        boolean ok;
        try {
            SymbolLookup cl = SymbolLookup.libraryLookup("libOpenCL.so.1", Arena.global());
            Linker linker = Linker.nativeLinker();
            set = linker.downcallHandle(cl.find("clSetKernelArg").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_INT, SIZE_T, ValueLayout.ADDRESS));
            enq = linker.downcallHandle(cl.find("clEnqueueNDRangeKernel").orElseThrow(), FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            fin = linker.downcallHandle(cl.find("clFinish").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS));
            ptr = NativePointerObject.class.getDeclaredField("nativePointer");
            ptr.setAccessible(true);
            ok = true;
        } catch (RuntimeException | ReflectiveOperationException | LinkageError e) {
            ok = false;
        }
        AVAILABLE = ok;
        SET_ARG = set;
        ENQUEUE = enq;
        FINISH = fin;
        POINTER = ptr;
    }

    /** Per thread: an argument value and the work sizes (the calls that take pointers read them at once). */
    private static final ThreadLocal<MemorySegment> SCRATCH = ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(64, 8));

    private ClNative() {
    }

    static MemorySegment handle(NativePointerObject o) {
        try {
            return MemorySegment.ofAddress(POINTER.getLong(o));
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A buffer argument; {@code mem} NULL passes a NULL buffer. */
    static int setMem(MemorySegment kernel, int index, MemorySegment mem) {
        MemorySegment value = SCRATCH.get();
        value.set(ValueLayout.JAVA_LONG, 0, mem.address());
        MemorySegment arg = mem.equals(MemorySegment.NULL) ? MemorySegment.NULL : value;
        return setArg(kernel, index, arg, 8);
    }

    static int setInt(MemorySegment kernel, int index, int v) {
        MemorySegment value = SCRATCH.get();
        value.set(ValueLayout.JAVA_INT, 0, v);
        return setArg(kernel, index, value, 4);
    }

    static int setFloat(MemorySegment kernel, int index, float v) {
        MemorySegment value = SCRATCH.get();
        value.set(ValueLayout.JAVA_FLOAT, 0, v);
        return setArg(kernel, index, value, 4);
    }

    private static int setArg(MemorySegment kernel, int index, MemorySegment v, long size) {
        try {
            return (int) SET_ARG.invokeExact(kernel, index, size, v);
        } catch (Throwable t) {
            throw new IllegalStateException("clSetKernelArg downcall", t);
        }
    }

    static int enqueue(MemorySegment queue, MemorySegment kernel, long[] g, long[] l) {
        MemorySegment s = SCRATCH.get();
        MemorySegment global = s.asSlice(16, 24);
        MemorySegment local = s.asSlice(40, 24);
        for (int i = 0; i < g.length; i++) {
            global.setAtIndex(ValueLayout.JAVA_LONG, i, g[i]);
            if (l != null) {
                local.setAtIndex(ValueLayout.JAVA_LONG, i, l[i]);
            }
        }
        // A typed local: a conditional passed to invokeExact would be typed Object.
        MemorySegment localSizes = l == null ? MemorySegment.NULL : local;
        try {
            return (int) ENQUEUE.invokeExact(queue, kernel, g.length, MemorySegment.NULL, global, localSizes, 0,
                    MemorySegment.NULL, MemorySegment.NULL);
        } catch (Throwable t) {
            throw new IllegalStateException("clEnqueueNDRangeKernel downcall", t);
        }
    }

    static int finish(MemorySegment queue) {
        try {
            return (int) FINISH.invokeExact(queue);
        } catch (Throwable t) {
            throw new IllegalStateException("clFinish downcall", t);
        }
    }
}
