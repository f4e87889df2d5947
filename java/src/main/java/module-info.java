/**
 * convkit: kernels for convolutional neural networks on OpenCL, CUDA and the CPU.
 *
 * <p>Host tensors live in off-heap {@link java.lang.foreign.MemorySegment}s; backends are
 * discovered with {@link java.util.ServiceLoader} and selected by name ({@code cpu},
 * {@code opencl:0}) through {@link org.convkit.backend.Backends}.
 */
module org.convkit {
    requires jocl;
    requires java.logging;
    requires jdk.incubator.vector;

    exports org.convkit;
    exports org.convkit.tensor;
    exports org.convkit.ops;
    exports org.convkit.memory;
    exports org.convkit.backend;
    exports org.convkit.graph;
    exports org.convkit.exec;
    exports org.convkit.onnx;

    uses org.convkit.backend.Backend;

    provides org.convkit.backend.Backend with
            org.convkit.backend.cpu.CpuBackend,
            org.convkit.backend.opencl.OpenClBackend;
}
