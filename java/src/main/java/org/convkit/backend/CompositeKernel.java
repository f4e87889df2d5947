package org.convkit.backend;

import java.util.ArrayList;
import java.util.List;

import org.convkit.ops.grad.Composite;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;

/**
 * The kernel of a {@link Composite} op on any device: the device's own kernels of the steps, run in
 * order, the temporaries regions of the workspace (laid out at {@link Composite#ALIGNMENT}, or the
 * device's view alignment if larger) followed by the steps' shared workspace. Every step is checked
 * when it is prepared: its arguments must fit the buffers the plan gives it.
 */
final class CompositeKernel extends Kernel {
    private final AbstractDevice device;
    private final Composite.Plan plan;
    private final List<Kernel> steps = new ArrayList<>();
    private final long[] offsets;
    private final long stepWorkspace;

    CompositeKernel(AbstractDevice device, Composite op, List<Shape> inputs) {
        super(device, op, inputs);
        this.device = device;
        this.plan = op.plan(inputs);
        this.offsets = plan.offsets(DType.F32, Math.max(Composite.ALIGNMENT, device.viewAlignment()));
        long ws = 0;
        try {
            for (Composite.Step s : plan.steps()) {
                Kernel k = device.prepare(s.op(), s.inputShapes());
                steps.add(k);
                check(s, k);
                ws = Math.max(ws, k.workspaceBytes());
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
        this.stepWorkspace = ws;
    }

    /** A plan whose buffers do not fit a step is a bug of the composite op: refused by name. */
    private void check(Composite.Step s, Kernel k) {
        if (k.argumentShapes().size() != s.args().size()) {
            throw new IllegalStateException(describe() + ": step " + k.describe() + " takes " + k.argumentShapes().size()
                    + " arguments, the plan gives " + s.args().size());
        }
        for (int i = 0; i < s.args().size(); i++) {
            requireFits(k, "argument " + i, s.args().get(i), k.argumentShapes().get(i));
        }
        requireFits(k, "output", s.output(), k.outputShape());
    }

    private void requireFits(Kernel k, String what, Composite.Ref ref, Shape needed) {
        Shape have = switch (ref) {
            case Composite.Arg a -> argumentShapes().get(a.index());
            case Composite.Temp t -> plan.temps().get(t.index());
            case Composite.Out o -> outputShape();
        };
        if (have.elementCount() != needed.elementCount()) {
            throw new IllegalStateException(describe() + ": step " + k.describe() + " " + what + " needs " + needed
                    + ", the plan gives " + ref + " of shape " + have);
        }
    }

    @Override
    public long workspaceBytes() {
        return offsets[plan.temps().size()] + stepWorkspace;
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        List<DeviceBuffer> regions = new ArrayList<>();
        try {
            List<DeviceBuffer> temps = new ArrayList<>();
            for (int i = 0; i < plan.temps().size(); i++) {
                DeviceBuffer r = device.region(workspace, offsets[i], plan.temps().get(i).byteSize(DType.F32),
                        "temporary " + i);
                regions.add(r);
                temps.add(r);
            }
            DeviceBuffer shared = null;
            if (stepWorkspace > 0) {
                shared = device.region(workspace, offsets[plan.temps().size()], stepWorkspace, "step workspace");
                regions.add(shared);
            }
            for (int i = 0; i < steps.size(); i++) {
                Composite.Step s = plan.steps().get(i);
                List<DeviceBuffer> stepArgs = new ArrayList<>(s.args().size());
                for (Composite.Ref r : s.args()) {
                    stepArgs.add(resolve(r, args, temps, output));
                }
                Kernel k = steps.get(i);
                k.run(stepArgs, resolve(s.output(), args, temps, output), k.workspaceBytes() > 0 ? shared : null);
            }
        } finally {
            // Views only: the work queued on them keeps running on the parent's memory.
            regions.forEach(DeviceBuffer::close);
        }
    }

    private static DeviceBuffer resolve(Composite.Ref r, List<DeviceBuffer> args, List<DeviceBuffer> temps,
            DeviceBuffer output) {
        return switch (r) {
            case Composite.Arg a -> args.get(a.index());
            case Composite.Temp t -> temps.get(t.index());
            case Composite.Out o -> output;
        };
    }

    @Override
    public void close() {
        steps.forEach(Kernel::close);
        steps.clear();
    }
}
