package org.convkit.bench;

import java.util.ArrayList;
import java.util.List;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.memory.Allocator;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * A benchmark case prepared on a device: kernel built, random arguments uploaded, output and
 * workspace allocated. {@link #run()} is what a benchmark measures: one launch and the wait for
 * the device.
 */
public final class OpRunner implements AutoCloseable {
    /** The CPU backend's switch to its direct convolution loops. */
    public static final String CPU_PATH_PROPERTY = "convkit.cpu.conv";
    private final Device device;
    private final Kernel kernel;
    private final List<DeviceBuffer> args = new ArrayList<>();
    private final DeviceBuffer out;
    private final DeviceBuffer workspace;

    private OpRunner(String deviceName, BenchCase c) {
        device = Backends.system().open(deviceName);
        kernel = device.prepare(c.op(), c.inputs());
        List<Shape> shapes = kernel.argumentShapes();
        for (int i = 0; i < shapes.size(); i++) {
            try (Tensor t = Tensor.allocate(shapes.get(i), DType.F32, Allocator.host(), "bench arg " + i)) {
                c.op().initParameter(c.inputs(), Math.max(0, i - c.inputs().size()), t, 1234 + i);
                if (i < c.inputs().size()) {
                    t.fillUniform(1234 + i, -1f, 1f);
                }
                DeviceBuffer b = device.allocate(t.byteSize(), "arg" + i);
                args.add(b);
                device.upload(t, b);
            }
        }
        out = device.allocate(kernel.outputShape().byteSize(DType.F32), "output");
        workspace = kernel.workspaceBytes() > 0 ? device.allocate(kernel.workspaceBytes(), "workspace") : null;
    }

    /** Opens {@code device} and prepares the case on it. */
    public static OpRunner open(String device, BenchCase c) {
        return new OpRunner(device, c);
    }

    /**
     * As {@link #open(String, BenchCase)}, the CPU kernels prepared on {@code cpuPath}:
     * {@code auto} (the backend's choice) or {@code direct} (its direct loops, through the system
     * property {@value #CPU_PATH_PROPERTY}, set only while the kernel is prepared).
     */
    public static OpRunner open(String device, BenchCase c, String cpuPath) {
        switch (cpuPath) {
            case "auto" -> {
                return new OpRunner(device, c);
            }
            case "direct" -> {
                System.setProperty(CPU_PATH_PROPERTY, "direct");
                try {
                    return new OpRunner(device, c);
                } finally {
                    System.clearProperty(CPU_PATH_PROPERTY);
                }
            }
            default -> throw new IllegalArgumentException("cpuPath must be auto or direct, got " + cpuPath);
        }
    }

    /** One launch, waited for; returns the output so that nothing is dead code. */
    public DeviceBuffer run() {
        kernel.run(args, out, workspace);
        device.synchronize();
        return out;
    }

    /** The first half of {@link #run()}: the launch queued, not waited for. */
    public void queue() {
        kernel.run(args, out, workspace);
    }

    /** The second half of {@link #run()}: the wait for the device. */
    public void waitForDevice() {
        device.synchronize();
    }

    /** Downloads the output (after a {@link #run()}). */
    public float[] output() {
        try (Tensor t = Tensor.allocate(kernel.outputShape(), DType.F32, Allocator.host(), "bench output")) {
            device.download(out, t);
            return t.toFloatArray();
        }
    }

    @Override
    public void close() {
        if (workspace != null) {
            workspace.close();
        }
        out.close();
        args.forEach(DeviceBuffer::close);
        kernel.close();
        device.close();
    }
}
