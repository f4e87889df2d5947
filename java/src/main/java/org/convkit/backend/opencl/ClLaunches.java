package org.convkit.backend.opencl;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Launch;
import org.convkit.ops.Op;
import org.convkit.tensor.Shape;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;

/**
 * The OpenCL host of kernels planned as data ({@link Launch}; the backward pass's, from
 * {@code org.convkit.backend.grad.GradLaunches}): one cl_kernel per launch, its scalar arguments set
 * once here, its buffers bound at each run, the launches queued in order. Programs are built with
 * the sources' default macros, as their CUDA twins are.
 */
final class ClLaunches extends ClKernel {
    private final List<Launch> plan;
    private final cl_kernel[] kernels;
    /** Work sizes of each launch, in the fields {@code ClLaunchRunner.workSizes} reads. */
    private final long[][] globals;
    private final long[][] locals;

    ClLaunches(ClDevice device, Op op, List<Shape> inputs, List<Launch> plan) {
        super(device, op, inputs);
        this.plan = List.copyOf(plan);
        this.kernels = new cl_kernel[plan.size()];
        this.globals = new long[plan.size()][];
        this.locals = new long[plan.size()][];
        for (int i = 0; i < plan.size(); i++) {
            Launch l = plan.get(i);
            long group = Arrays.stream(l.local()).reduce(1, (a, b) -> a * b);
            requireWorkGroup(group);
            kernels[i] = kernel(l.source(), Map.of(), l.entry());
            globals[i] = l.global();
            locals[i] = l.local();
            for (int a = 0; a < l.args().size(); a++) {
                setScalar(kernels[i], a, l.args().get(a));
            }
        }
    }

    private void setScalar(cl_kernel k, int index, Launch.Arg arg) {
        switch (arg) {
            case Launch.I32 v -> ClDevice.setArg(k, index, v.value());
            case Launch.F32 v -> ClDevice.setArg(k, index, v.value());
            case Launch.I64 v -> Cl.check(CL.clSetKernelArg(k, index, Sizeof.cl_long, Pointer.to(new long[] {v.value()})),
                    cl.name(), "clSetKernelArg", "long argument " + index + " = " + v.value());
            case Launch.I32x8 v -> Cl.check(CL.clSetKernelArg(k, index, (long) Sizeof.cl_int * 8, Pointer.to(v.values())),
                    cl.name(), "clSetKernelArg", "int8 argument " + index + " = " + Arrays.toString(v.values()));
            case Launch.None n -> ClDevice.setArg(k, index, (DeviceBuffer) null);
            case Launch.Input in -> {
                // Bound at each run.
            }
            case Launch.Output o -> {
                // Bound at each run.
            }
            case Launch.Workspace w -> {
                // Bound at each run.
            }
        }
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        for (int i = 0; i < kernels.length; i++) {
            Launch l = plan.get(i);
            for (int a = 0; a < l.args().size(); a++) {
                switch (l.args().get(a)) {
                    case Launch.Input in -> ClDevice.setArg(kernels[i], a, args.get(in.index()));
                    case Launch.Output o -> ClDevice.setArg(kernels[i], a, output);
                    case Launch.Workspace w -> ClDevice.setArg(kernels[i], a, workspace);
                    default -> {
                        // Scalars and null buffers were set when the kernel was prepared.
                    }
                }
            }
            cl.launch(kernels[i], l.entry() + " " + describe(), globals[i], locals[i]);
        }
    }
}
