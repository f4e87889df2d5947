package org.convkit.backend;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.convkit.ops.Op;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;

/**
 * An op prepared for one device and one set of input shapes. {@link #run} checks the buffers,
 * then queues the work; the result is ready after {@link Device#synchronize()} or a download.
 * Closing releases native kernel objects (not the program, which the device caches).
 */
public abstract class Kernel implements AutoCloseable {
    private final AbstractDevice device;
    private final Op op;
    private final List<Shape> inputShapes;
    private final List<Shape> argumentShapes;
    private final Shape outputShape;
    /** {@link #describe()}, made on first use: formatting it on every launch cost microseconds. */
    private String description;

    protected Kernel(AbstractDevice device, Op op, List<Shape> inputShapes) {
        this.device = device;
        this.op = op;
        this.inputShapes = List.copyOf(inputShapes);
        this.outputShape = op.outputShape(this.inputShapes);
        List<Shape> args = new ArrayList<>(this.inputShapes);
        args.addAll(op.parameterShapes(this.inputShapes));
        this.argumentShapes = Collections.unmodifiableList(args);
    }

    /** The device that runs this kernel. */
    public final Device device() {
        return device;
    }

    public final Op op() {
        return op;
    }

    public final List<Shape> inputShapes() {
        return inputShapes;
    }

    /** Shapes of the arguments {@link #run} takes: activation inputs, then parameters. */
    public final List<Shape> argumentShapes() {
        return argumentShapes;
    }

    public final Shape outputShape() {
        return outputShape;
    }

    /** The case this kernel computes, e.g. {@code conv2d(n=1,c=3,...)}. */
    public final String describe() {
        String d = description;
        if (d == null) {
            d = op.describe(inputShapes);
            description = d;
        }
        return d;
    }

    /**
     * Scratch bytes this kernel needs on its device (0 for most). The caller provides them to
     * {@link #run(List, DeviceBuffer, DeviceBuffer)}, so that every byte a model uses is allocated,
     * accounted and planned outside the kernel. Defaults to the op's own figure.
     */
    public long workspaceBytes() {
        return op.workspaceBytes(inputShapes, DType.F32);
    }

    /** {@link #run(List, DeviceBuffer, DeviceBuffer)} for kernels without a workspace. */
    public final void run(List<DeviceBuffer> args, DeviceBuffer output) {
        run(args, output, null);
    }

    /**
     * Queues the op: {@code args} are the activation inputs then the parameters, in
     * {@link #argumentShapes()} order; {@code output} receives the result and must not alias an
     * argument; {@code workspace} holds at least {@link #workspaceBytes()} (null when that is 0).
     */
    public final void run(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        // The checks build no string unless one fails: this runs before every launch.
        if (args.size() != argumentShapes.size()) {
            throw new IllegalArgumentException(where() + ": expected " + argumentShapes.size() + " argument buffers "
                    + argumentShapes + ", got " + args.size());
        }
        for (int i = 0; i < args.size(); i++) {
            DeviceBuffer b = args.get(i);
            if (!usable(b)) {
                device.checkBuffer(where() + " argument " + i, b);
            }
            long need = argumentShapes.get(i).byteSize(DType.F32);
            if (b.bytes() < need) {
                throw new IllegalArgumentException(where() + ": argument " + i + " of shape " + argumentShapes.get(i)
                        + " needs " + need + " B, buffer " + b.owner() + " has " + b.bytes() + " B");
            }
        }
        if (!usable(output)) {
            device.checkBuffer(where() + " output", output);
        }
        long need = outputShape.byteSize(DType.F32);
        if (output.bytes() < need) {
            throw new IllegalArgumentException(where() + ": output of shape " + outputShape + " needs " + need
                    + " B, buffer " + output.owner() + " has " + output.bytes() + " B");
        }
        if (isAmong(output, args)) {
            throw new IllegalArgumentException(where() + ": output buffer " + output.owner() + " is also an argument");
        }
        long scratch = workspaceBytes();
        if (scratch > 0) {
            if (!usable(workspace)) {
                device.checkBuffer(where() + " workspace", workspace);
            }
            if (workspace.bytes() < scratch || isAmong(workspace, args) || workspace == output) {
                throw new IllegalArgumentException(where() + ": workspace needs " + scratch + " B of its own, buffer "
                        + workspace.owner() + " has " + workspace.bytes() + " B");
            }
        }
        device.beforeLaunch(this);
        output.markWritten();
        if (scratch > 0) {
            workspace.markWritten();
        }
        launch(args, output, scratch > 0 ? workspace : null);
    }

    private String where() {
        return device.name() + " " + describe();
    }

    /** What {@link AbstractDevice#checkBuffer} accepts, without building its message. */
    private boolean usable(DeviceBuffer b) {
        return b != null && !b.isClosed() && b.device() == device;
    }

    /** Identity search: a kernel has a handful of arguments, so no set is built. */
    private static boolean isAmong(DeviceBuffer b, List<DeviceBuffer> args) {
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i) == b) {
                return true;
            }
        }
        return false;
    }

    /** Queues the work; arguments are already checked; {@code workspace} is null when none is needed. */
    protected abstract void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace);

    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + device.name() + " " + describe() + "]";
    }
}
