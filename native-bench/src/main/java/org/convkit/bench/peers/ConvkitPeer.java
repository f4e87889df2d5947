package org.convkit.bench.peers;

import java.util.ArrayList;
import java.util.List;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.DeviceInfo;
import org.convkit.backend.Kernel;
import org.convkit.backend.cpu.CpuBackend;
import org.convkit.bench.Workloads.Workload;
import org.convkit.exec.ExecutionMode;
import org.convkit.exec.Session;
import org.convkit.graph.Layer;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.tensor.DType;
import org.convkit.tensor.Tensor;

/**
 * convkit on one of its devices. A single layer runs as its kernel on arguments already on the
 * device (as the op benchmarks run it: on the CPU backend the device's buffers are host memory,
 * so this is NCHW in and out with nothing copied); a network runs through a planned
 * {@link Session} into an output tensor allocated once, as ONNX Runtime's output is bound to a
 * buffer of ours (on the CPU the session's kernels then read the NCHW input and write the NCHW
 * output where they lie; on a GPU device the run uploads the input and downloads the output).
 */
final class ConvkitPeer implements Peer {
    private final String name;
    private final Device device;
    private final Allocator host = Allocator.root("peer host");
    private final Tensor input;
    /** Single layer: the kernel and its buffers. */
    private Kernel kernel;
    private final List<DeviceBuffer> args = new ArrayList<>();
    private DeviceBuffer out;
    private DeviceBuffer workspace;
    /** Network: the session and the output it writes into. */
    private Session session;
    private Tensor result;

    ConvkitPeer(String deviceName, Workload workload, Model model, Tensor input, int threads) {
        this.name = deviceName;
        this.input = input;
        try {
            // The CPU backend with the thread count every CPU peer gets.
            device = deviceName.equals("cpu") ? CpuBackend.open(0, threads) : Backends.system().open(deviceName);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new Unavailable(e.getMessage(), e);
        }
        try {
            if (workload.network()) {
                session = Session.open(model, device, ExecutionMode.PLANNED);
                result = Tensor.allocate(model.outputShape(), DType.F32, host, "peer output");
            } else {
                Layer l = model.layers().get(0);
                kernel = device.prepare(l.op(), l.inputShapes());
                List<Tensor> host = new ArrayList<>();
                host.add(input);
                host.addAll(model.parameters(l.name()));
                for (int i = 0; i < host.size(); i++) {
                    DeviceBuffer b = device.allocate(host.get(i).byteSize(), "arg" + i);
                    args.add(b);
                    device.upload(host.get(i), b);
                }
                out = device.allocate(kernel.outputShape().byteSize(DType.F32), "output");
                workspace = kernel.workspaceBytes() > 0 ? device.allocate(kernel.workspaceBytes(), "workspace") : null;
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public String device() {
        return name;
    }

    @Override
    public void run() {
        if (session != null) {
            session.run(input, result).close();
        } else {
            kernel.run(args, out, workspace);
            device.synchronize();
        }
    }

    @Override
    public float[] output() {
        if (session != null) {
            result.fill(Float.NaN);
            session.run(input, result).close();
            return result.toFloatArray();
        }
        try (Tensor t = Tensor.allocate(kernel.outputShape(), DType.F32, host, "peer output")) {
            device.download(out, t);
            return t.toFloatArray();
        }
    }

    @Override
    public String detail() {
        DeviceInfo i = device.info();
        return "convkit on " + i.model() + ", " + i.computeUnits() + " compute units; a single layer is its kernel on "
                + "device buffers, a network a planned session run into an output allocated once";
    }

    @Override
    public void close() {
        if (session != null) {
            session.close();
        }
        if (result != null) {
            result.close();
        }
        if (workspace != null) {
            workspace.close();
        }
        if (out != null) {
            out.close();
        }
        args.forEach(DeviceBuffer::close);
        if (kernel != null) {
            kernel.close();
        }
        device.close();
        host.close();
    }
}
