package org.convkit.backend.opencl;

import static org.jocl.CL.CL_CONTEXT_PLATFORM;
import static org.jocl.CL.CL_DEVICE_MAX_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_PROGRAM_BUILD_LOG;
import static org.jocl.CL.CL_TRUE;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.convkit.backend.AbstractDevice;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.DeviceInfo;
import org.convkit.backend.KernelBuildException;
import org.convkit.backend.grad.GradLaunches;
import org.convkit.backend.plan.Conv2dTuning;
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
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_buffer_region;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;
import org.jocl.cl_queue_properties;

/**
 * One OpenCL device: a context and an in-order queue of its own, and a program cache (each
 * kernel source is built once per distinct set of build options).
 */
public final class ClDevice extends AbstractDevice {
    /** Options every program is built with; kernels are OpenCL C 1.2. */
    static final String BASE_OPTIONS = "-cl-std=CL1.2";
    /** Host transfers go through ByteBuffers, which are limited to 2 GiB. */
    private static final long CHUNK = 1L << 30;

    private final cl_device_id device;
    private final cl_context context;
    private final cl_command_queue queue;
    private final long maxWorkGroupSize;
    private final long baseAlign;
    /** The queue's native handle, for {@link ClNative}'s downcalls. */
    private final MemorySegment queueHandle;
    private final Conv2dTuning conv2dTuning;
    private final Map<String, cl_program> programs = new ConcurrentHashMap<>();
    /** Each cached program's inlined source and options, for {@link ClTrace}. */
    private final Map<cl_program, String[]> sources = new ConcurrentHashMap<>();
    private final AtomicInteger builds = new AtomicInteger();
    /** OpenCL objects this device holds now: buffers (and sub-buffers) and kernel objects. */
    private final AtomicInteger openBuffers = new AtomicInteger();
    private final AtomicInteger openKernels = new AtomicInteger();

    ClDevice(DeviceInfo info, cl_platform_id platform, cl_device_id device) {
        super(info);
        this.device = device;
        int[] err = new int[1];
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, platform);
        this.context = CL.clCreateContext(props, 1, new cl_device_id[] {device}, null, null, err);
        Cl.check(err[0], info.name(), "clCreateContext", null);
        this.queue = CL.clCreateCommandQueueWithProperties(context, device, new cl_queue_properties(), err);
        if (err[0] != CL.CL_SUCCESS) {
            CL.clReleaseContext(context);
            Cl.check(err[0], info.name(), "clCreateCommandQueueWithProperties", null);
        }
        this.maxWorkGroupSize = Cl.deviceSize(device, CL_DEVICE_MAX_WORK_GROUP_SIZE);
        this.baseAlign = Math.max(1, Cl.deviceInt(device, CL.CL_DEVICE_MEM_BASE_ADDR_ALIGN) / 8);
        this.queueHandle = ClNative.AVAILABLE ? ClNative.handle(queue) : MemorySegment.NULL;
        this.conv2dTuning = Conv2dTuning.forDevice(info.kind(), Cl.deviceString(device, CL.CL_DEVICE_VENDOR), info.model());
        // Convolutions and the dense layer.
        register(Conv2d.class, (op, inputs) -> new ClConv2d(this, op, inputs.get(0)));
        register(SeparableConv2d.class, (op, inputs) -> new ClSeparableConv2d(this, op, inputs));
        register(ConvTranspose2d.class, (op, inputs) -> new ClConvTranspose2d(this, op, inputs.get(0)));
        register(Dense.class, (op, inputs) -> new ClDense(this, op, inputs.get(0)));
        // Pooling and resampling.
        register(Pool2d.class, (op, inputs) -> new ClPool2d(this, op, inputs.get(0)));
        register(GlobalPool2d.class, (op, inputs) -> new ClGlobalPool2d(this, op, inputs.get(0)));
        register(Upsample.class, (op, inputs) -> new ClUpsample(this, op, inputs.get(0)));
        // Normalization.
        register(BatchNorm.class, (op, inputs) -> new ClBatchNorm(this, op, inputs.get(0)));
        register(Lrn.class, (op, inputs) -> new ClLrn(this, op, inputs.get(0)));
        // Activations.
        register(ActivationOp.class, (op, inputs) -> new ClActivation(this, op, inputs.get(0)));
        register(PRelu.class, (op, inputs) -> new ClPRelu(this, op, inputs.get(0)));
        register(Softmax.class, (op, inputs) -> new ClSoftmax(this, op, inputs.get(0)));
        // Element-wise and per-channel scaling.
        register(Binary.class, (op, inputs) -> new ClBinary(this, op, inputs));
        register(SqueezeExcite.class, (op, inputs) -> new ClSqueezeExcite(this, op, inputs.get(0)));
        // Shape ops.
        register(Concat.class, (op, inputs) -> new ClConcat(this, op, inputs));
        register(Flatten.class, (op, inputs) -> new ClFlatten(this, op, inputs.get(0)));
        register(Reshape.class, (op, inputs) -> new ClReshape(this, op, inputs.get(0)));
        // Training: the loss and its gradient, optimizer updates, gradient accumulation.
        register(SoftmaxCrossEntropy.class, (op, inputs) -> new ClSoftmaxCrossEntropy(this, op, inputs));
        register(SoftmaxCrossEntropyGrad.class, (op, inputs) -> new ClSoftmaxCrossEntropyGrad(this, op, inputs));
        register(SgdUpdate.class, (op, inputs) -> new ClSgdUpdate(this, op, inputs));
        register(AdamUpdate.class, (op, inputs) -> new ClAdamUpdate(this, op, inputs));
        register(Accumulate.class, (op, inputs) -> new ClAccumulate(this, op, inputs.get(0)));
        register(RunningAverage.class, (op, inputs) -> new ClRunningAverage(this, op, inputs.get(0)));
        // Backward pass: the gradient ops' device-neutral plans.
        for (Class<? extends Op> c : GradLaunches.OPS) {
            registerPlanned(c);
        }
    }

    /** Registers the host of a gradient op planned by {@link GradLaunches}. */
    private <O extends Op> void registerPlanned(Class<O> type) {
        register(type, (op, inputs) -> new ClLaunches(this, op, inputs, GradLaunches.plan(op, inputs)));
    }

    /** Largest work-group the device accepts. */
    public long maxWorkGroupSize() {
        return maxWorkGroupSize;
    }

    /** The conv2d kernels' tile sizes for this device. */
    Conv2dTuning conv2dTuning() {
        return conv2dTuning;
    }

    /**
     * The OpenCL objects this device holds now, by kind ({@code buffers} with sub-buffers,
     * {@code kernels}, {@code programs}): a soak run checks that they stay flat.
     */
    public Map<String, Integer> openObjects() {
        return Map.of("buffers", openBuffers.get(), "kernels", openKernels.get(), "programs", programs.size());
    }

    /** Programs compiled so far on this device (each source and option set once). */
    public int programBuilds() {
        return builds.get();
    }

    @Override
    protected DeviceBuffer allocateNative(Allocation allocation) {
        int[] err = new int[1];
        cl_mem mem = CL.clCreateBuffer(context, CL_MEM_READ_WRITE, allocation.bytes(), null, err);
        Cl.checkAllocation(err[0], name(), "clCreateBuffer", allocation.bytes(), allocation.owner(),
                allocator().tree() + allocation.allocator().context());
        openBuffers.incrementAndGet();
        return new ClBuffer(this, allocation, mem);
    }

    /** CL_DEVICE_MEM_BASE_ADDR_ALIGN, in bytes: sub-buffer origins must be multiples of it. */
    @Override
    public long viewAlignment() {
        return baseAlign;
    }

    @Override
    protected DeviceBuffer createView(DeviceBuffer parent, long offset, long bytes, String owner) {
        int[] err = new int[1];
        cl_mem sub = CL.clCreateSubBuffer(mem(parent), CL.CL_MEM_READ_WRITE, CL.CL_BUFFER_CREATE_TYPE_REGION,
                new cl_buffer_region(offset, bytes), err);
        Cl.check(err[0], name(), "clCreateSubBuffer", owner + ", " + bytes + " B at offset " + offset + " of " + parent.owner());
        openBuffers.incrementAndGet();
        return new ClBuffer(this, bytes, owner, sub);
    }

    @Override
    protected void copyToDevice(Tensor src, DeviceBuffer dst) {
        transfer(true, dst, src.segment());
    }

    @Override
    protected void copyToHost(DeviceBuffer src, Tensor dst) {
        transfer(false, src, dst.segment());
    }

    /** Blocking copy between a host segment and a buffer, in chunks a ByteBuffer can address. */
    private void transfer(boolean toDevice, DeviceBuffer buffer, MemorySegment host) {
        cl_mem mem = mem(buffer);
        String call = toDevice ? "clEnqueueWriteBuffer" : "clEnqueueReadBuffer";
        for (long off = 0; off < host.byteSize(); off += CHUNK) {
            long len = Math.min(CHUNK, host.byteSize() - off);
            Pointer p = Pointer.to(host.asSlice(off, len).asByteBuffer());
            int code = toDevice ? CL.clEnqueueWriteBuffer(queue, mem, CL_TRUE, off, len, p, 0, null, null)
                    : CL.clEnqueueReadBuffer(queue, mem, CL_TRUE, off, len, p, 0, null, null);
            Cl.checkUse(code, name(), call, buffer.owner() + ", offset " + off + ", " + len + " B", buffer.bytes(),
                    buffer.owner(), allocator().tree());
        }
        SignalGuard.afterWait(); // a blocking copy waits for the kernels queued before it
    }

    @Override
    public void synchronize() {
        checkOpen();
        int code = ClNative.AVAILABLE ? ClNative.finish(queueHandle) : CL.clFinish(queue);
        SignalGuard.afterWait();
        Cl.check(code, name(), "clFinish", null);
    }

    /**
     * The program built from {@code source} (a path under {@code kernels/}) with these defines,
     * compiled on first use and cached.
     *
     * @throws KernelBuildException with the build log if the compiler rejects it
     */
    cl_program program(String source, Map<String, ?> defines) {
        checkOpen();
        StringBuilder options = new StringBuilder(BASE_OPTIONS);
        new TreeMap<>(defines).forEach((k, v) -> options.append(" -D").append(k).append('=').append(v));
        String opts = options.toString();
        return programs.computeIfAbsent(source + '\n' + opts, key -> {
            String text = KernelSources.load(source);
            cl_program p = build(source, text, opts);
            sources.put(p, new String[] {text, opts});
            return p;
        });
    }

    /** Compiles source text (exposed to tests of the error path). */
    cl_program build(String sourceName, String text, String options) {
        int[] err = new int[1];
        cl_program p = CL.clCreateProgramWithSource(context, 1, new String[] {text}, null, err);
        Cl.check(err[0], name(), "clCreateProgramWithSource", sourceName);
        int code = CL.clBuildProgram(p, 1, new cl_device_id[] {device}, options, null, null);
        SignalGuard.afterBuild();
        if (code != CL.CL_SUCCESS) {
            String log = buildLog(p);
            CL.clReleaseProgram(p);
            throw new KernelBuildException(name(), "clBuildProgram", code, Cl.errorName(code), sourceName, options, log);
        }
        builds.incrementAndGet();
        return p;
    }

    private String buildLog(cl_program p) {
        long[] size = new long[1];
        if (CL.clGetProgramBuildInfo(p, device, CL_PROGRAM_BUILD_LOG, 0, null, size) != CL.CL_SUCCESS || size[0] <= 1) {
            return "(no build log)";
        }
        byte[] buf = new byte[(int) size[0]];
        CL.clGetProgramBuildInfo(p, device, CL_PROGRAM_BUILD_LOG, buf.length, Pointer.to(buf), null);
        return new String(buf, 0, buf.length - 1, java.nio.charset.StandardCharsets.UTF_8).trim();
    }

    /** A new kernel object for {@code entry} in a built program (kernels hold arguments, so each user gets its own). */
    cl_kernel kernel(cl_program program, String entry) {
        int[] err = new int[1];
        cl_kernel k = CL.clCreateKernel(program, entry, err);
        Cl.check(err[0], name(), "clCreateKernel", entry);
        openKernels.incrementAndGet();
        String[] origin = sources.get(program);
        if (origin != null) {
            ClTrace.created(k, origin[0], origin[1], entry);
        }
        return k;
    }

    /** Queues an ND-range launch; failures name the kernel and the work sizes. */
    void launch(cl_kernel kernel, String what, long[] global, long[] local) {
        checkOpen();
        ClTrace.launched(kernel, global, local);
        int code = ClNative.AVAILABLE ? ClNative.enqueue(queueHandle, ClNative.handle(kernel), global, local)
                : CL.clEnqueueNDRangeKernel(queue, kernel, global.length, null, global, local, 0, null, null);
        if (code != CL.CL_SUCCESS) {
            Cl.checkUse(code, name(), "clEnqueueNDRangeKernel", what + ", global " + sizes(global) + ", local "
                    + sizes(local), -1, what, allocator().tree());
        }
    }

    static void setArg(cl_kernel k, int index, DeviceBuffer b) {
        ClTrace.arg(k, index, b == null ? null : new Object[] {mem(b), b.bytes()});
        if (ClNative.AVAILABLE) {
            Cl.check(ClNative.setMem(ClNative.handle(k), index, b == null ? MemorySegment.NULL : ClNative.handle(mem(b))),
                    b == null ? "opencl" : b.device().name(), "clSetKernelArg", "argument " + index
                    + (b == null ? " = NULL" : " = " + b.owner()));
            return;
        }
        if (b == null) {
            Cl.check(CL.clSetKernelArg(k, index, Sizeof.cl_mem, null), "opencl", "clSetKernelArg", "argument " + index);
        } else {
            Cl.check(CL.clSetKernelArg(k, index, Sizeof.cl_mem, Pointer.to(mem(b))), b.device().name(), "clSetKernelArg",
                    "argument " + index + " = " + b.owner());
        }
    }

    static void setArg(cl_kernel k, int index, int value) {
        ClTrace.arg(k, index, value);
        if (ClNative.AVAILABLE) {
            Cl.check(ClNative.setInt(ClNative.handle(k), index, value), "opencl", "clSetKernelArg", "argument " + index
                    + " = " + value);
            return;
        }
        Cl.check(CL.clSetKernelArg(k, index, Sizeof.cl_int, Pointer.to(new int[] {value})), "opencl", "clSetKernelArg",
                "argument " + index + " = " + value);
    }

    static void setArg(cl_kernel k, int index, float value) {
        ClTrace.arg(k, index, value);
        if (ClNative.AVAILABLE) {
            Cl.check(ClNative.setFloat(ClNative.handle(k), index, value), "opencl", "clSetKernelArg", "argument " + index
                    + " = " + value);
            return;
        }
        Cl.check(CL.clSetKernelArg(k, index, Sizeof.cl_float, Pointer.to(new float[] {value})), "opencl", "clSetKernelArg",
                "argument " + index + " = " + value);
    }

    /** A {@code __local} argument of {@code bytes} bytes. */
    static void setLocalArg(cl_kernel k, int index, long bytes) {
        ClTrace.arg(k, index, new long[] {bytes});
        Cl.check(CL.clSetKernelArg(k, index, bytes, null), "opencl", "clSetKernelArg",
                "local argument " + index + " of " + bytes + " B");
    }

    /** Counts a kernel object released by its {@link ClKernel}. */
    void kernelReleased() {
        openKernels.decrementAndGet();
    }

    /** Local memory per work-group, in bytes. */
    public long localMemoryBytes() {
        return Cl.deviceLong(device, CL.CL_DEVICE_LOCAL_MEM_SIZE);
    }

    private static String sizes(long[] s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length; i++) {
            sb.append(i == 0 ? "" : "x").append(s[i]);
        }
        return sb.toString();
    }

    private static cl_mem mem(DeviceBuffer b) {
        return ((ClBuffer) b).mem;
    }

    @Override
    protected void release() {
        CL.clFinish(queue);
        programs.values().forEach(CL::clReleaseProgram);
        programs.clear();
        CL.clReleaseCommandQueue(queue);
        CL.clReleaseContext(context);
    }

    /** A cl_mem in this device's context. */
    static final class ClBuffer extends DeviceBuffer {
        private final cl_mem mem;

        ClBuffer(ClDevice device, Allocation allocation, cl_mem mem) {
            super(device, allocation);
            this.mem = mem;
        }

        ClBuffer(ClDevice device, long bytes, String owner, cl_mem sub) {
            super(device, bytes, owner);
            this.mem = sub;
        }

        @Override
        protected void free() {
            CL.clReleaseMemObject(mem);
            ((ClDevice) device()).openBuffers.decrementAndGet();
        }
    }
}
