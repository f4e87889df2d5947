package org.convkit.backend.cuda;

import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUjit_option;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import jcuda.driver.JITOptions;

import org.convkit.backend.AbstractDevice;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.DeviceInfo;
import org.convkit.backend.KernelBuildException;
import org.convkit.backend.UnsupportedOpException;
import org.convkit.backend.grad.GradLaunches;
import org.convkit.backend.plan.Conv2dPlan;
import org.convkit.memory.Allocation;
import org.convkit.ops.ActivationOp;
import org.convkit.ops.BatchNorm;
import org.convkit.ops.Binary;
import org.convkit.ops.Concat;
import org.convkit.ops.Conv2d;
import org.convkit.ops.ConvTranspose2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.GlobalPool2d;
import org.convkit.ops.Lrn;
import org.convkit.ops.Op;
import org.convkit.ops.PRelu;
import org.convkit.ops.Pool2d;
import org.convkit.ops.Reshape;
import org.convkit.ops.SeparableConv2d;
import org.convkit.ops.Softmax;
import org.convkit.ops.SoftmaxCrossEntropy;
import org.convkit.ops.SqueezeExcite;
import org.convkit.ops.Upsample;
import org.convkit.ops.grad.SoftmaxCrossEntropyGrad;
import org.convkit.ops.train.Accumulate;
import org.convkit.ops.train.AdamUpdate;
import org.convkit.ops.train.RunningAverage;
import org.convkit.ops.train.SgdUpdate;
import org.convkit.tensor.Tensor;

/**
 * One CUDA device: a context and a stream of its own, and a cache of PTX modules, each loaded
 * (and compiled for the device by the driver) once, on first use. Work is queued on the stream;
 * transfers and {@link #synchronize()} wait for it.
 *
 * <p>Every call first makes this device's context current on the calling thread, so a device may
 * be driven from different threads one at a time, and several devices from one thread.
 */
public final class CudaDevice extends AbstractDevice {
    /** cuMemAlloc returns addresses aligned to at least 256 bytes; view offsets keep that alignment. */
    static final long ALIGNMENT = 256;
    /**
     * The step in which the driver's memory counter ({@link #memoryInfo()}) typically moves: cuMemAlloc
     * maps device memory in 2 MiB pages (small buffers share them), so a comparison of the driver's
     * count with the allocator's bytes holds to within this much per buffer.
     */
    public static final long TYPICAL_GRANULARITY = 2L << 20;
    /** Host copies go through ByteBuffers, which address at most 2 GiB. */
    private static final long CHUNK = 1L << 30;
    private static final String KERNELS = "/org/convkit/kernels/";
    /** JIT log buffer size, per log. */
    private static final int LOG_BYTES = 16 * 1024;

    private final CUcontext context;
    private final CUstream stream;
    private final int computeMajor;
    private final int maxThreadsPerBlock;
    /** Static shared memory a block may use (48 KiB; more only as opt-in dynamic memory, which convkit does not use). */
    private final int sharedMemoryPerBlock;
    private final int[] maxBlock;
    private final long[] maxGrid;
    private final Map<String, CUmodule> modules = new ConcurrentHashMap<>();
    private final Map<String, CUfunction> functions = new ConcurrentHashMap<>();
    /** The last launch queued, named when an error surfaces at a later synchronization. */
    private volatile String lastLaunch;

    CudaDevice(DeviceInfo info, int ordinal) {
        super(info);
        CUdevice device = new CUdevice();
        Cuda.check(JCudaDriver.cuDeviceGet(device, ordinal), info.name(), "cuDeviceGet", "ordinal " + ordinal);
        this.computeMajor = CudaBackend.attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        this.maxThreadsPerBlock = CudaBackend.attribute(device, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
        this.sharedMemoryPerBlock = CudaBackend.attribute(device, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK);
        this.maxBlock = new int[] {CudaBackend.attribute(device, CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X),
            CudaBackend.attribute(device, CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y),
            CudaBackend.attribute(device, CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z)};
        this.maxGrid = new long[] {CudaBackend.attribute(device, CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X),
            CudaBackend.attribute(device, CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y),
            CudaBackend.attribute(device, CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z)};
        this.context = new CUcontext();
        Cuda.check(JCudaDriver.cuCtxCreate(context, 0, device), info.name(), "cuCtxCreate", null);
        this.stream = new CUstream();
        int code = JCudaDriver.cuStreamCreate(stream, 0);
        if (code != CUresult.CUDA_SUCCESS) {
            JCudaDriver.cuCtxDestroy(context);
            Cuda.check(code, info.name(), "cuStreamCreate", null);
        }
        // Convolutions and the dense layer.
        register(Conv2d.class, (op, inputs) -> new CudaConv2d(this, op, inputs.get(0)));
        register(SeparableConv2d.class, (op, inputs) -> new CudaSeparableConv2d(this, op, inputs));
        register(ConvTranspose2d.class, (op, inputs) -> new CudaConvTranspose2d(this, op, inputs.get(0)));
        register(Dense.class, (op, inputs) -> new CudaDense(this, op, inputs.get(0)));
        // Pooling and resampling.
        register(Pool2d.class, (op, inputs) -> new CudaPool2d(this, op, inputs.get(0)));
        register(GlobalPool2d.class, (op, inputs) -> new CudaGlobalPool2d(this, op, inputs.get(0)));
        register(Upsample.class, (op, inputs) -> new CudaUpsample(this, op, inputs.get(0)));
        // Normalization.
        register(BatchNorm.class, (op, inputs) -> new CudaBatchNorm(this, op, inputs.get(0)));
        register(Lrn.class, (op, inputs) -> new CudaLrn(this, op, inputs.get(0)));
        // Activations.
        register(ActivationOp.class, (op, inputs) -> new CudaActivation(this, op, inputs.get(0)));
        register(PRelu.class, (op, inputs) -> new CudaPRelu(this, op, inputs.get(0)));
        register(Softmax.class, (op, inputs) -> new CudaSoftmax(this, op, inputs.get(0)));
        // Element-wise and per-channel scaling.
        register(Binary.class, (op, inputs) -> new CudaBinary(this, op, inputs));
        register(SqueezeExcite.class, (op, inputs) -> new CudaSqueezeExcite(this, op, inputs.get(0)));
        // Shape ops.
        register(Concat.class, (op, inputs) -> new CudaConcat(this, op, inputs));
        register(Flatten.class, (op, inputs) -> new CudaFlatten(this, op, inputs.get(0)));
        register(Reshape.class, (op, inputs) -> new CudaReshape(this, op, inputs.get(0)));
        // Training: the loss and its gradient, optimizer updates, gradient accumulation.
        register(SoftmaxCrossEntropy.class, (op, inputs) -> new CudaSoftmaxCrossEntropy(this, op, inputs));
        register(SoftmaxCrossEntropyGrad.class, (op, inputs) -> new CudaSoftmaxCrossEntropyGrad(this, op, inputs));
        register(SgdUpdate.class, (op, inputs) -> new CudaSgdUpdate(this, op, inputs));
        register(AdamUpdate.class, (op, inputs) -> new CudaAdamUpdate(this, op, inputs));
        register(Accumulate.class, (op, inputs) -> new CudaAccumulate(this, op, inputs.get(0)));
        register(RunningAverage.class, (op, inputs) -> new CudaRunningAverage(this, op, inputs.get(0)));
        // Backward pass: the gradient ops' device-neutral plans.
        for (Class<? extends Op> c : GradLaunches.OPS) {
            registerPlanned(c);
        }
    }

    /** Registers the host of a gradient op planned by {@link GradLaunches}. */
    private <O extends Op> void registerPlanned(Class<O> type) {
        register(type, (op, inputs) -> new CudaLaunches(this, op, inputs, GradLaunches.plan(op, inputs)));
    }

    /**
     * The driver's count of this GPU's memory (cuMemGetInfo): free and total bytes of the whole
     * device, other contexts and processes included. It moves in steps of about
     * {@link #TYPICAL_GRANULARITY}.
     */
    public MemoryInfo memoryInfo() {
        checkOpen();
        bind();
        long[] free = new long[1];
        long[] total = new long[1];
        Cuda.check(JCudaDriver.cuMemGetInfo(free, total), name(), "cuMemGetInfo", null);
        return new MemoryInfo(free[0], total[0]);
    }

    /**
     * The driver's memory counter at one moment.
     *
     * @param freeBytes device memory not allocated by anyone
     * @param totalBytes the device's memory
     */
    public record MemoryInfo(long freeBytes, long totalBytes) {
        /** Bytes allocated on the device by every context. */
        public long usedBytes() {
            return totalBytes - freeBytes;
        }
    }

    /** The PTX flavour this device loads: compute_90 from compute capability 9.0 on, else compute_80. */
    public String ptxArchitecture() {
        return ptxArchitecture(computeMajor);
    }

    static String ptxArchitecture(int computeMajor) {
        return computeMajor >= 9 ? "compute_90" : "compute_80";
    }

    /** The PTX resource of {@code module} (e.g. {@code conv2d/conv2d}) for a device of this compute capability. */
    static String ptxResource(String module, int computeMajor) {
        return KERNELS + module + "." + ptxArchitecture(computeMajor) + ".ptx";
    }

    /** What this device allows a conv2d launch: threads and static shared memory per block, multiprocessors. */
    Conv2dPlan.Limits conv2dLimits() {
        return new Conv2dPlan.Limits(maxThreadsPerBlock, sharedMemoryPerBlock, info().computeUnits());
    }

    /** Modules loaded so far on this device (each PTX resource once). */
    public int modulesLoaded() {
        return modules.size();
    }

    @Override
    protected DeviceBuffer allocateNative(Allocation allocation) {
        bind();
        CUdeviceptr p = new CUdeviceptr();
        Cuda.checkAllocation(JCudaDriver.cuMemAlloc(p, allocation.bytes()), name(), "cuMemAlloc", allocation.bytes(),
                allocation.owner(), allocator().tree() + allocation.allocator().context());
        return new CudaBuffer(this, allocation, p);
    }

    @Override
    public long viewAlignment() {
        return ALIGNMENT;
    }

    @Override
    protected DeviceBuffer createView(DeviceBuffer parent, long offset, long bytes, String owner) {
        // A view is the parent's address plus the offset: nothing to create or free in the driver.
        return new CudaBuffer(this, bytes, owner, pointer(parent).withByteOffset(offset));
    }

    @Override
    protected void copyToDevice(Tensor src, DeviceBuffer dst) {
        transfer(true, dst, src.segment());
    }

    @Override
    protected void copyToHost(DeviceBuffer src, Tensor dst) {
        transfer(false, src, dst.segment());
    }

    /**
     * Copies between a host segment and a buffer on this device's stream, in chunks a ByteBuffer
     * can address, then waits for the stream (so a download sees every kernel queued before it).
     * The tensors' memory is pageable; the driver stages it. Page-locking it (cuMemHostRegister)
     * would cost more per copy than it saves, since a tensor's lifetime is its own.
     */
    private void transfer(boolean toDevice, DeviceBuffer buffer, MemorySegment host) {
        bind();
        CUdeviceptr base = pointer(buffer);
        String call = toDevice ? "cuMemcpyHtoDAsync" : "cuMemcpyDtoHAsync";
        for (long off = 0; off < host.byteSize(); off += CHUNK) {
            long len = Math.min(CHUNK, host.byteSize() - off);
            Pointer p = Pointer.to(host.asSlice(off, len).asByteBuffer());
            CUdeviceptr d = base.withByteOffset(off);
            int code = toDevice ? JCudaDriver.cuMemcpyHtoDAsync(d, p, len, stream)
                    : JCudaDriver.cuMemcpyDtoHAsync(p, d, len, stream);
            Cuda.check(code, name(), call, buffer.owner() + ", offset " + off + ", " + len + " B" + afterLastLaunch());
        }
        Cuda.check(JCudaDriver.cuStreamSynchronize(stream), name(), "cuStreamSynchronize",
                (toDevice ? "upload to " : "download of ") + buffer.owner() + afterLastLaunch());
    }

    @Override
    public void synchronize() {
        checkOpen();
        bind();
        Cuda.check(JCudaDriver.cuStreamSynchronize(stream), name(), "cuStreamSynchronize", afterLastLaunch().trim());
    }

    /** Kernel faults surface at the next synchronizing call: name the launch that probably caused them. */
    private String afterLastLaunch() {
        String last = lastLaunch;
        return last == null ? "" : "; last launch: " + last;
    }

    /**
     * The function {@code entry} of PTX module {@code module} (e.g. {@code conv2d/conv2d}); the
     * module is loaded for this device's architecture on first use and cached.
     *
     * @throws KernelBuildException with the JIT log if the driver rejects the PTX
     */
    CUfunction function(String module, String entry) {
        checkOpen();
        String resource = ptxResource(module, computeMajor);
        CUmodule m = modules.computeIfAbsent(resource, this::load);
        return functions.computeIfAbsent(resource + '#' + entry, key -> {
            bind();
            CUfunction f = new CUfunction();
            Cuda.check(JCudaDriver.cuModuleGetFunction(f, m, entry), name(), "cuModuleGetFunction",
                    entry + " in " + resource.substring(1));
            return f;
        });
    }

    private CUmodule load(String resource) {
        return load(resource.substring(KERNELS.length()), readResource(resource));
    }

    /**
     * Loads PTX text as a module, compiled for this device by the driver's JIT.
     *
     * @param name what messages call it, e.g. {@code conv2d/conv2d.compute_90.ptx}
     * @throws KernelBuildException with the JIT's error log if the driver rejects it
     */
    CUmodule load(String name, byte[] ptx) {
        checkOpen();
        bind();
        // The driver reads PTX as a NUL-terminated string.
        byte[] image = Arrays.copyOf(ptx, ptx.length + 1);
        JITOptions jit = new JITOptions();
        jit.putBytes(CUjit_option.CU_JIT_ERROR_LOG_BUFFER, new byte[LOG_BYTES]);
        jit.putInt(CUjit_option.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, LOG_BYTES);
        CUmodule m = new CUmodule();
        int code = JCudaDriver.cuModuleLoadDataJIT(m, Pointer.to(image), jit);
        if (code != CUresult.CUDA_SUCCESS) {
            throw new KernelBuildException(name(), "cuModuleLoadDataEx", code, Cuda.errorName(code), name,
                    "JIT for " + ptxArchitecture(),
                    cString(jit.getBytes(CUjit_option.CU_JIT_ERROR_LOG_BUFFER)));
        }
        return m;
    }

    private static byte[] readResource(String resource) {
        try (InputStream in = CudaDevice.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("PTX kernels" + resource.substring(KERNELS.length() - 1)
                        + " is not packaged with convkit (built by nvcc from the op's .cu file)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource, e);
        }
    }

    /**
     * Refuses a launch this device cannot make (more threads per block, or more blocks along a
     * dimension, than it allows), naming the case: the CUDA kernels map OpenCL's global size to
     * blocks one to one, and CUDA limits the grid's y and z to 65535 blocks.
     */
    void checkLaunch(CudaLaunch l, String opCase) {
        boolean fits = l.threadsPerBlock() <= maxThreadsPerBlock;
        for (int i = 0; i < 3; i++) {
            fits &= l.block()[i] <= maxBlock[i] && l.grid()[i] <= maxGrid[i];
        }
        if (!fits) {
            throw new UnsupportedOpException(name(), opCase, l.entry() + " needs " + l.sizes() + "; this device allows "
                    + maxThreadsPerBlock + " threads per block, blocks up to " + maxBlock[0] + "x" + maxBlock[1] + "x"
                    + maxBlock[2] + " and grids up to " + maxGrid[0] + "x" + maxGrid[1] + "x" + maxGrid[2]);
        }
    }

    /** Queues a launch on this device's stream; failures name the kernel, the case and the sizes. */
    void launch(CUfunction f, CudaLaunch l, Pointer parameters, String what) {
        checkOpen();
        bind();
        int code = JCudaDriver.cuLaunchKernel(f, (int) l.grid()[0], (int) l.grid()[1], (int) l.grid()[2], l.block()[0],
                l.block()[1], l.block()[2], 0, stream, parameters, null);
        lastLaunch = what + ", " + l.sizes();
        Cuda.check(code, name(), "cuLaunchKernel", lastLaunch);
    }

    /** Makes this device's context current on the calling thread. */
    private void bind() {
        Cuda.check(JCudaDriver.cuCtxSetCurrent(context), name(), "cuCtxSetCurrent", null);
    }

    /** The device address of a buffer of a CUDA device (a view's includes its offset). */
    static CUdeviceptr pointer(DeviceBuffer b) {
        return ((CudaBuffer) b).pointer;
    }

    private static String cString(byte[] buf) {
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
            n++;
        }
        String s = new String(buf, 0, n, StandardCharsets.UTF_8).trim();
        return s.isEmpty() ? "(no JIT log)" : s;
    }

    @Override
    protected void release() {
        // Best effort, as the context goes away with everything in it.
        JCudaDriver.cuCtxSetCurrent(context);
        JCudaDriver.cuStreamSynchronize(stream);
        modules.values().forEach(JCudaDriver::cuModuleUnload);
        modules.clear();
        functions.clear();
        JCudaDriver.cuStreamDestroy(stream);
        JCudaDriver.cuCtxDestroy(context);
    }

    /** Device memory from cuMemAlloc, or a view of another buffer's (the parent's address plus an offset). */
    static final class CudaBuffer extends DeviceBuffer {
        private final CudaDevice cuda;
        private final CUdeviceptr pointer;

        CudaBuffer(CudaDevice device, Allocation allocation, CUdeviceptr pointer) {
            super(device, allocation);
            this.cuda = device;
            this.pointer = pointer;
        }

        CudaBuffer(CudaDevice device, long bytes, String owner, CUdeviceptr view) {
            super(device, bytes, owner);
            this.cuda = device;
            this.pointer = view;
        }

        @Override
        protected void free() {
            if (!isView()) {
                // Like the other backends' releases, this does not throw: the accounting is released either way.
                JCudaDriver.cuCtxSetCurrent(cuda.context);
                JCudaDriver.cuMemFree(pointer);
            }
        }
    }
}
